"""The feature spec (vars ``features`` and ``feature_models`` in dbt_project.yml), expanded.

The same expansion is written in Jinja in ``macros/feature_spec.sql``, which the models use to
write their SQL; this one serves the YAML generator and the tests, and any Python code that needs
to know the features (names, types, units, ranges) without a built warehouse.

Expansion: an entry inherits every key of the group and blocks it sits in; ``for_each`` repeats
it (or its block) once per value of one placeholder, and ``{placeholder}`` / ``{placeholder:about}``
are filled in every string. Nothing is derived from column names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
# Keys that shape the expansion rather than describe a feature.
STRUCTURAL = ("features", "for_each")


def load_vars(project: Path = PROJECT) -> dict[str, Any]:
    with open(project / "dbt_project.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)["vars"]


def dimension(source: str | list[Any], variables: dict[str, Any]) -> list[tuple[str, str]]:
    """The (value, about) pairs a ``for_each`` placeholder takes.

    A literal list gives its items; a var name gives the var's items (a mapping: its keys, with
    the value, or the value's ``about``, as about); ``feature_windows`` gives 7d, 30d, ..., all.
    """
    if isinstance(source, list):
        return [(str(v), str(v)) for v in source]
    if source == "feature_windows":
        windows = [f"{d}d" for d in variables["feature_windows"]] + ["all"]
        return [(w, w) for w in windows]
    values = variables[source]
    if isinstance(values, dict):
        return [(str(k), str(v["about"] if isinstance(v, dict) else v)) for k, v in values.items()]
    return [(str(v), str(v)) for v in values]


def fill(value: Any, bindings: dict[str, tuple[str, str]]) -> Any:
    """Fill {placeholder} and {placeholder:about} in a string (or in each string of a list)."""
    if isinstance(value, list):
        return [fill(v, bindings) for v in value]
    if not isinstance(value, str):
        return value
    for key, (val, about) in bindings.items():
        value = value.replace("{" + key + ":about}", about).replace("{" + key + "}", val)
    return value


def expand(
    entries: list[dict[str, Any]],
    variables: dict[str, Any],
    inherited: dict[str, Any] | None = None,
    bindings: dict[str, tuple[str, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every column the entries declare, in order, each a flat dict of its (filled) keys."""
    for entry in entries:
        ctx = {**(inherited or {}), **{k: v for k, v in entry.items() if k not in STRUCTURAL}}
        for_each = entry.get("for_each") or {}
        if len(for_each) > 1:
            raise ValueError(f"{entry}: one placeholder per for_each; nest blocks for more")
        values: list[dict[str, tuple[str, str]]] = [{}]
        if for_each:
            ((key, source),) = for_each.items()
            values = [{key: pair} for pair in dimension(source, variables)]
        for extra in values:
            bound = {**(bindings or {}), **extra}
            if "features" in entry:
                yield from expand(entry["features"], variables, ctx, bound)
            else:
                feature = {k: fill(v, bound) for k, v in ctx.items()}
                if "window" in bound:  # expanded over windows: the value is the window
                    feature["window"] = bound["window"][0]
                yield feature


def group_features(
    group: str, grain: str, variables: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The features of one group at one grain, in order."""
    variables = variables or load_vars()
    (spec,) = [g for g in variables["features"] if g["group"] == group]
    return [f for f in expand([spec], variables) if grain in f["grains"]]


def model_features(model: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The feature columns of one model (vars ``feature_models``), in order.

    Each is a feature of ``group_features`` plus ``grain`` (the grain its events belong to)
    and, when carried from another model under a prefix, ``carried_from`` and ``source_name``.
    """
    variables = variables or load_vars()
    models = variables["feature_models"]
    layout = models[model]
    if "same_as" in layout:
        return model_features(layout["same_as"], variables)
    columns: list[dict[str, Any]] = []
    for part in layout["parts"]:
        if isinstance(part, dict):
            dropped = set(part.get("drop_windows", []))
            for f in model_features(part["model"], variables):
                if f.get("window") in dropped:
                    continue
                columns.append(
                    {
                        **f,
                        "name": part.get("prefix", "") + f["name"],
                        "source_name": f["name"],
                        "carried_from": part["model"],
                    }
                )
        elif part in models:
            columns.extend(model_features(part, variables))
        else:
            grain = layout["grain"]
            columns.extend({**f, "grain": grain} for f in group_features(part, grain, variables))
    names = [c["name"] for c in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{model}: columns declared twice: {duplicated}")
    return columns
