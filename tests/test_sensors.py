"""The landing sensor, evaluated with Dagster's sensor test context against a real instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.assets.ingest import batch_partitions
from orchestration.resources import CloudswordHome
from orchestration.sensors import landing_sensor


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


def requested(result: dg.SensorResult | dg.SkipReason) -> list[str]:
    if isinstance(result, dg.SkipReason):
        return []
    return [r.partition_key for r in result.run_requests]


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
    assert requested(first) == ["2026-01-01", "2026-02-01"]
    assert [r.run_key for r in first.run_requests] == ["ingest:2026-01-01", "ingest:2026-02-01"]
    assert instance.get_dynamic_partitions(batch_partitions.name) == ["2026-01-01", "2026-02-01"]

    again = tick(instance, tmp_path)
    assert isinstance(again, dg.SkipReason)
    assert "2026-03-01" in again.skip_message  # the incomplete batch is named, not processed

    (landing / "2026-03-01" / "_SUCCESS").touch()
    assert requested(tick(instance, tmp_path)) == ["2026-03-01"]


def test_memory_survives_a_daemon_restart(tmp_path: Path) -> None:
    """The partitions live in the instance's storage: a new process sees what was requested."""
    landing = tmp_path / "landing"
    land(landing, "2026-01-01")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert requested(tick(instance, tmp_path)) == ["2026-01-01"]
    land(landing, "2026-01-02")
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as restarted:
        assert requested(tick(restarted, tmp_path)) == ["2026-01-02"]
        assert isinstance(tick(restarted, tmp_path), dg.SkipReason)


def test_a_late_batch_that_sorts_earlier_is_not_skipped(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    landing = tmp_path / "landing"
    land(landing, "2026-01-02")
    assert requested(tick(instance, tmp_path)) == ["2026-01-02"]
    # A batch whose upload finished late, but whose id sorts before one already processed.
    land(landing, "2026-01-01")
    assert requested(tick(instance, tmp_path)) == ["2026-01-01"]
