"""The landing and training sensors, evaluated with Dagster's sensor test context against a real
instance."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from ml.warehouse import writer_lock
from orchestration import sensors
from orchestration.assets.ingest import batch_partitions
from orchestration.resources import CloudswordHome
from orchestration.sensors import RANGE_END, RANGE_START, TRAINING_SET, landing_sensor


def land(landing: Path, batch_id: str, complete: bool = True) -> None:
    folder = landing / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "brands.csv").write_text("brand,category,reference_price,rights_holder\n")
    if complete:
        (folder / "_SUCCESS").touch()


def tick(instance: dg.DagsterInstance, home: Path) -> dg.SensorResult | dg.SkipReason:
    """One sensor evaluation, applying its partition requests as the daemon would."""
    context = dg.build_sensor_context(
        instance=instance, resources={"home": CloudswordHome(root=str(home))}
    )
    result = landing_sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def requested(result: dg.SensorResult | dg.SkipReason, instance: dg.DagsterInstance) -> list[str]:
    """The batches the tick's one run will ingest: its partition, or its partition range."""
    if isinstance(result, dg.SkipReason):
        return []
    (request,) = result.run_requests  # one run per tick, whatever the number of batches
    if request.partition_key is not None:
        return [request.partition_key]
    keys = instance.get_dynamic_partitions(batch_partitions.name)
    first, last = keys.index(request.tags[RANGE_START]), keys.index(request.tags[RANGE_END])
    return keys[first : last + 1]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_each_complete_batch_is_requested_once_in_order(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    landing = tmp_path / "landing"
    for batch in ("2026-02-01", "2026-01-01"):
        land(landing, batch)
    land(landing, "2026-03-01", complete=False)
    (landing / "not..a batch").mkdir()

    first = tick(instance, tmp_path)
    assert requested(first, instance) == ["2026-01-01", "2026-02-01"]
    assert [r.run_key for r in first.run_requests] == ["batches:2026-01-01..2026-02-01"]
    assert instance.get_dynamic_partitions(batch_partitions.name) == ["2026-01-01", "2026-02-01"]

    again = tick(instance, tmp_path)
    assert isinstance(again, dg.SkipReason)
    assert "2026-03-01" in again.skip_message  # the incomplete batch is named, not processed

    (landing / "2026-03-01" / "_SUCCESS").touch()
    single = tick(instance, tmp_path)
    assert requested(single, instance) == ["2026-03-01"]
    assert single.run_requests[0].run_key == "batches:2026-03-01"


def test_memory_survives_a_daemon_restart(tmp_path: Path) -> None:
    """The partitions live in the instance's storage: a new process sees what was requested."""
    landing = tmp_path / "landing"
    land(landing, "2026-01-01")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert requested(tick(instance, tmp_path), instance) == ["2026-01-01"]
    land(landing, "2026-01-02")
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as restarted:
        assert requested(tick(restarted, tmp_path), restarted) == ["2026-01-02"]
        assert isinstance(tick(restarted, tmp_path), dg.SkipReason)


def test_a_late_batch_that_sorts_earlier_is_not_skipped(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    landing = tmp_path / "landing"
    land(landing, "2026-01-02")
    assert requested(tick(instance, tmp_path), instance) == ["2026-01-02"]
    # A batch whose upload finished late, but whose id sorts before one already processed.
    land(landing, "2026-01-01")
    assert requested(tick(instance, tmp_path), instance) == ["2026-01-01"]


def test_batches_landing_after_a_late_one_form_one_range(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    """Partitions are kept in arrival order, so a tick's new batches are always one range."""
    landing = tmp_path / "landing"
    land(landing, "2026-01-03")
    tick(instance, tmp_path)
    for batch in ("2026-01-01", "2026-01-04", "2026-01-02"):
        land(landing, batch)
    assert requested(tick(instance, tmp_path), instance) == [
        "2026-01-01",
        "2026-01-02",
        "2026-01-04",
    ]


# --- train_when_due ---------------------------------------------------------------------------


def train_tick(
    instance: dg.DagsterInstance, home: Path, cursor: str | None = None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"home": CloudswordHome(root=str(home))}
    )
    return sensors.train_when_due(context)


def decide(due: bool):
    """A stand-in for ml.model.training_due's answer (tests/test_training.py uses the real one)."""

    def decision(home: CloudswordHome) -> SimpleNamespace:
        return SimpleNamespace(due=due, reason="60 outcomes decided after v1's data cutoff")

    return decision


def training_set_built(instance: dg.DagsterInstance) -> str:
    instance.report_runless_asset_event(dg.AssetMaterialization(TRAINING_SET))
    return str(instance.fetch_materializations(TRAINING_SET, limit=1).records[0].storage_id)


def test_train_requested_once_per_training_set_when_due(
    tmp_path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "training_decision", decide(True))
    assert isinstance(train_tick(instance, tmp_path), dg.SkipReason)  # no training set yet

    marker = training_set_built(instance)
    result = train_tick(instance, tmp_path)
    assert [r.run_key for r in result.run_requests] == [f"train:{marker}"]
    assert result.cursor == marker
    again = train_tick(instance, tmp_path, cursor=marker)
    assert isinstance(again, dg.SkipReason)
    assert "unchanged" in again.skip_message


def test_not_due_moves_the_cursor_without_a_run(
    tmp_path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "training_decision", decide(False))
    marker = training_set_built(instance)
    result = train_tick(instance, tmp_path)
    assert not result.run_requests
    assert result.cursor == marker


def test_train_check_waits_for_the_writer_and_a_pending_train_run(
    tmp_path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "training_decision", decide(True))
    training_set_built(instance)
    # A run holds the warehouse: the tick neither waits nor moves its cursor.
    with writer_lock(tmp_path / "warehouse.duckdb"):
        busy = train_tick(instance, tmp_path)
    assert isinstance(busy, dg.SkipReason)
    assert "writing" in busy.skip_message

    @dg.job(name="train")
    def train() -> None:
        pass

    instance.create_run_for_job(train, status=dg.DagsterRunStatus.STARTED)
    running = train_tick(instance, tmp_path)
    assert isinstance(running, dg.SkipReason)
    assert "already queued or running" in running.skip_message


def scored(instance: dg.DagsterInstance, version: str, mean: float) -> None:
    quantiles = {"p50": mean - 0.05, "p90": mean + 0.2, "p99": 0.99, "mean": mean, "max": 1.0}
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            sensors.LISTING_SCORES,
            metadata={
                "model_version": version,
                "score_quantiles": dg.MetadataValue.json(quantiles),
            },
        )
    )


def test_score_drift_requests_one_forced_training_per_champion(
    tmp_path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "training_decision", decide(False))
    scored(instance, "1", 0.20)
    scored(instance, "1", 0.25)  # moved less than the threshold
    marker = training_set_built(instance)
    assert not train_tick(instance, tmp_path).run_requests

    scored(instance, "1", 0.40)  # the champion's scores moved by 0.2 since it first scored
    marker = training_set_built(instance)
    result = train_tick(instance, tmp_path, cursor="0")
    (request,) = result.run_requests
    assert request.run_key == f"drift:{marker}"
    assert request.run_config["ops"]["listing_model"]["config"] == {"train": "always"}
    assert request.tags[sensors.DRIFT_TAG] == "1"
    assert "mean 0.200 -> 0.400" in request.tags["cloudsword/why"]

    # Once a drift training of this champion ran, drift alone asks for no more.
    @dg.op
    def step() -> None: ...

    @dg.job(name="train")
    def train() -> None:
        step()

    instance.create_run_for_job(
        train, status=dg.DagsterRunStatus.SUCCESS, tags={sensors.DRIFT_TAG: "1"}
    )
    training_set_built(instance)
    assert not train_tick(instance, tmp_path).run_requests
    # A new champion is measured from its own first scores.
    scored(instance, "2", 0.40)
    scored(instance, "2", 0.42)
    training_set_built(instance)
    assert not train_tick(instance, tmp_path).run_requests
