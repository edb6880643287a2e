"""Turn the plain values that ``ml`` summaries return into Dagster metadata.

``ml`` never imports dagster, so its summaries hand back plain dicts; this module decides how each
value shows in the UI: Markdown tables render as tables, paths as paths, URLs as links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as a Markdown table (pipes in values escaped), for previews in the UI."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, list | tuple):
            value = "; ".join(map(str, value))
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def to_metadata(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values -> Dagster metadata values."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Path):
            out[key] = dg.MetadataValue.path(str(value))
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            out[key] = dg.MetadataValue.url(value)
        elif isinstance(value, str) and "\n|" in value:
            out[key] = dg.MetadataValue.md(value)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            out[key] = dg.MetadataValue.md(markdown_table(value))
        elif isinstance(value, dict):
            out[key] = dg.MetadataValue.json(value)
        elif value is None:
            out[key] = "none"
        else:
            out[key] = value
    return out
