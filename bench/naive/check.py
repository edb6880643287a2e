"""Do the naive features equal the product's? Compare with main.listing_features."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

RTOL, ATOL = 1e-6, 1e-9


def compare_features(
    naive: pd.DataFrame, warehouse: Path, rtol: float = RTOL, atol: float = ATOL
) -> pd.DataFrame:
    """Per reimplemented column: rows compared, rows equal (both NULL counts as equal), share.

    ``naive`` is indexed by listing_id; rows are matched on it. Columns missing from the mart
    are reported with ``in_mart`` False and no matches.
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart_cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = 'listing_features'"
            ).fetchall()
        }
        shared = [c for c in naive.columns if c in mart_cols]
        select = ", ".join(f'CAST("{c}" AS DOUBLE) AS "{c}"' for c in shared)
        mart = con.execute(f"SELECT listing_id, {select} FROM main.listing_features").df()
    mart = mart.set_index("listing_id")
    ids = naive.index.intersection(mart.index)
    rows = []
    for col in naive.columns:
        if col not in mart_cols:
            rows.append({"column": col, "in_mart": False, "rows": 0, "equal": 0})
            continue
        a = naive.loc[ids, col].astype(float).to_numpy()
        b = mart.loc[ids, col].to_numpy()
        equal = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        rows.append({"column": col, "in_mart": True, "rows": len(ids), "equal": int(equal.sum())})
    report = pd.DataFrame(rows)
    report["share"] = report["equal"] / report["rows"].where(report["rows"] > 0)
    return report


def summarize(report: pd.DataFrame) -> dict[str, float | int | list[str]]:
    """Totals of ``compare_features``: cells, equal cells, columns fully equal, the rest."""
    shared = report[report["in_mart"]]
    return {
        "columns": int(len(shared)),
        "columns_all_equal": int((shared["equal"] == shared["rows"]).sum()),
        "cells": int(shared["rows"].sum()),
        "cells_equal": int(shared["equal"].sum()),
        "cell_match_rate": float(shared["equal"].sum() / max(shared["rows"].sum(), 1)),
        "columns_not_in_mart": report.loc[~report["in_mart"], "column"].tolist(),
        "columns_with_mismatches": shared.loc[shared["equal"] < shared["rows"], "column"].tolist(),
    }


def compare_training_rows(warehouse: Path, n_times: int = 3) -> pd.DataFrame:
    """Point in time: naive features as of a few label decision times vs main.training_set.

    main.listing_features is as of the data's current time, when the 7/30/90-day windows may be
    empty; training rows are as of each label's decision, so this exercises the windows. Uses
    ``n_times`` decision times spread evenly over the ordered labels (one full naive feature
    computation each).
    """
    from bench.naive.features import features_from_tables, load_staging

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        mart = con.execute("SELECT * FROM main.training_set").df()
    ordered = np.sort(mart["label_decided_at"].unique())
    picks = np.linspace(0, len(ordered) - 1, num=min(n_times, len(ordered))).round().astype(int)
    times = [ordered[i] for i in np.unique(picks)]
    tables = load_staging(warehouse)
    reports = []
    for moment in times:
        naive = features_from_tables(tables, pd.Timestamp(moment))
        rows = mart[mart["label_decided_at"] == moment].set_index("listing_id")
        naive = naive.loc[naive.index.intersection(rows.index)]
        for col in naive.columns:
            a = naive[col].astype(float).to_numpy()
            b = rows.loc[naive.index, col].astype(float).to_numpy()
            equal = np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)
            reports.append(
                {"as_of": moment, "column": col, "rows": len(a), "equal": int(equal.sum())}
            )
    return pd.DataFrame(reports)
