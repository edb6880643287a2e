"""The feature spec (dbt_project.yml vars `features`, `feature_models`) and the model YAML it
generates, without building anything. tests/test_dbt_features.py checks the spec against a
built warehouse: same columns, order and types, and the same values as before the spec."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
sys.path.insert(0, str(DBT_PROJECT / "scripts"))
import feature_spec  # noqa: E402  (dbt_project/scripts is not a package)
import generate_model_yaml  # noqa: E402

FAMILIES = ("prod", "cons", "rep", "sell")
TYPES = ("double", "bigint", "integer")
RANGES = ("share", "nonneg", "any")
MARTS = ("listing_features", "training_set", "seller_features", "seller_training_set")


@pytest.fixture(scope="module")
def spec_vars() -> dict:
    return feature_spec.load_vars(DBT_PROJECT)


@pytest.fixture(scope="module")
def rendered() -> dict[Path, str]:
    return generate_model_yaml.render(DBT_PROJECT)


def test_committed_yaml_is_what_the_generator_writes(rendered: dict[Path, str]) -> None:
    """Nobody edits the generated YAML by hand: change the spec or model_docs.yml and run
    dbt_project/scripts/generate_model_yaml.py."""
    for path, text in rendered.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale"


def test_generated_yaml_documents_every_column_and_enforces_mart_contracts(
    rendered: dict[Path, str],
) -> None:
    for text in rendered.values():
        assert "&id" not in text and "*id" not in text, "no YAML anchors"
        for model in yaml.safe_load(text)["models"]:
            assert model["description"], model["name"]
            assert all(c["description"] for c in model["columns"]), model["name"]
            if model["name"] in MARTS:
                assert model["config"]["contract"] == {"enforced": True}
                assert all(c.get("data_type") for c in model["columns"]), model["name"]


def test_every_feature_is_fully_declared(spec_vars: dict) -> None:
    for model in spec_vars["feature_models"]:
        for f in feature_spec.model_features(model, spec_vars):
            name = f["name"]
            assert f["family"] in FAMILIES and name.startswith(("sell_", f["family"] + "_")), name
            assert "{" not in name and "{" not in f["description"].replace("{who}", ""), name
            assert f.get("type", "double") in TYPES, name
            assert f.get("range", "nonneg") in RANGES, name
            assert f["unit"] and f["computed_by"], name
            assert f.get("window") in (None, "all") or f["window"][:-1].isdigit(), name
            if "measure" in f or "days_since" in f:
                assert f["events"] in f["event_sets"], name
            for operand in f.get("ratio_of", []):
                assert "." in operand, f"{name}: ratio_of operands are alias.column"


def test_range_checks_come_from_the_spec(spec_vars: dict, rendered: dict[Path, str]) -> None:
    """column_checks of a feature model gets each feature in the list of its spec range."""
    marts = yaml.safe_load(rendered[DBT_PROJECT / "models" / "marts" / "_marts__models.yml"])
    (listing,) = [m for m in marts["models"] if m["name"] == "listing_features"]
    (checks,) = [t["column_checks"] for t in listing["data_tests"] if "column_checks" in t]
    arguments = checks["arguments"]
    features = feature_spec.model_features("listing_features", spec_vars)
    expected = {"unit_interval": "share", "non_negative": "nonneg", "finite": "any"}
    for argument, range_ in expected.items():
        assert arguments[argument] == [
            f["name"] for f in features if f.get("range", "nonneg") == range_
        ]
    assert "prod_log_price_z_brand" in arguments["finite"]
    assert "cons_buyer_hhi" in arguments["unit_interval"]


def test_a_new_window_is_one_line(spec_vars: dict) -> None:
    """Adding a window to var feature_windows adds it to every windowed family at both grains;
    listings carry their seller's aggregates without the dropped (short) windows only."""
    more = copy.deepcopy(spec_vars)
    more["feature_windows"] = [7, 30, 90, 180]
    names = {f["name"] for f in feature_spec.model_features("listing_features", more)}
    for name in (
        "cons_orders_180d",
        "rep_rights_holder_180d",
        "sell_logins_180d",
        "sell_cons_refund_rate_180d",
        "sell_rep_reason_counterfeit_180d",
    ):
        assert name in names, name
    assert "sell_cons_orders_7d" not in names


def test_carried_seller_aggregates_keep_source_names(spec_vars: dict) -> None:
    carried = [
        f for f in feature_spec.model_features("listing_features", spec_vars) if "carried_from" in f
    ]
    assert carried and all(f["name"] == "sell_" + f["source_name"] for f in carried)
    assert {f["window"] for f in carried if f.get("window")} == {"90d", "all"}
