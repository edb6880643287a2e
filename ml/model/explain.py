"""Reasons (SHAP ``pred_contrib``) only where a person reads them.

``pred_contrib`` costs several times a prediction, and investigators read reasons for listings
that score high and for the listings of sellers under investigation (in a ring, or in an open
lead), not for the ~million listings nobody looks at. The contract wants ``top_reasons`` to be
human-readable strings for every listing, so the others carry one sentence saying why there are
none. ``explain_listings`` fills the reasons later for sellers that came under investigation
after their listings were scored (the leads stage knows which).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.model.champion import load_champion, model_key
from ml.model.config import CATEGORICALS, ModelConfig
from ml.model.data import LISTING_TABLE
from ml.model.incremental import STATE_TABLE, active_filter, hash_sql
from ml.model.pyfunc_model import CounterfeitModel
from ml.model.reasons import top_reasons
from ml.warehouse import connect, table_exists

UNEXPLAINED = "reasons not computed: score below the review threshold"
#: Leads still being worked on; rejected and closed leads are done with.
OPEN_LEAD_STATUSES = ("new", "exported", "accepted")


def watched_sellers(con: duckdb.DuckDBPyConnection) -> pa.Array:
    """Sellers in a ring or an open lead (whichever of those tables exist yet)."""
    parts = []
    if table_exists(con, "main", "rings"):
        parts.append("SELECT seller_id FROM main.rings")
    if table_exists(con, "cloudsword", "lead_registry"):
        open_ = ", ".join(f"'{s}'" for s in OPEN_LEAD_STATUSES)
        parts.append(
            "SELECT unnest(seller_ids) AS seller_id FROM cloudsword.lead_registry "
            f"WHERE status IN ({open_})"
        )
    if not parts:
        return pa.array([], pa.string())
    sql = " UNION ".join(parts)
    table = con.sql(f"SELECT DISTINCT seller_id FROM ({sql}) WHERE seller_id IS NOT NULL")
    return table.to_arrow_table().column(0).combine_chunks().cast(pa.string())


def ring_sellers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Sellers in a ring of the network as last traced."""
    if not table_exists(con, "main", "rings"):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT seller_id FROM main.rings").fetchall()]


def needs_reasons(
    score: np.ndarray, seller_ids: pa.Array, watched: pa.Array, min_score: float
) -> np.ndarray:
    """Boolean mask of the rows whose reasons someone will read."""
    in_watch = pc.fill_null(pc.is_in(seller_ids, value_set=watched), False)
    return (score >= min_score) | in_watch.to_numpy(zero_copy_only=False)


def reasons_for(
    model: CounterfeitModel, x: np.ndarray, need: np.ndarray, top_n: int
) -> list[list[str]]:
    """Top reasons for the rows in ``need``; the contract's placeholder sentence elsewhere."""
    out: list[list[str]] = [[UNEXPLAINED] for _ in range(len(x))]
    rows = np.flatnonzero(need)
    if len(rows):
        sub = x[rows]
        texts = top_reasons(model.contributions(sub), sub, model.columns, model.vocab, top_n)
        for i, text in zip(rows, texts, strict=True):
            out[i] = text
    return out


def explain_listings(
    warehouse: Path,
    tracking_uri: str,
    seller_ids: list[str] | None = None,
    config: ModelConfig | None = None,
) -> int:
    """Compute the missing reasons of the listings of ``seller_ids`` (default: the sellers in
    ``main.rings``) and return how many.

    The leads step calls it with the default, after tracing and before building the packages, so
    the packages carry the reasons. Rings only, not the lead registry: the registry still holds
    the previous run's leads, so a rerun after a crash would explain more than an uninterrupted
    run (lead sellers outside rings are explained when scoring next rescores them).

    For sellers that joined a ring or lead after their listings were scored. Only listings
    scored by the current champion whose features have not changed since are explained (the
    reasons must explain the score shown); the next scoring run rescores the others and explains
    them then. Writes one transaction; the caller holds the warehouse writer lock.
    """
    config = config or ModelConfig()
    with connect(warehouse) as con:
        if not table_exists(con, "cloudsword", STATE_TABLE.split(".")[1]):
            return 0
        if seller_ids is None:
            seller_ids = ring_sellers(con)
        if not seller_ids:
            return 0
        # Loading the champion costs seconds: only when some listing still lacks its reasons.
        con.register("_watched", pa.table({"seller_id": pa.array(seller_ids, pa.string())}))
        waiting = con.execute(
            f"SELECT count(*) FROM {STATE_TABLE} st JOIN main.listing_scores ls USING (listing_id) "
            "WHERE NOT st.explained AND ls.seller_id IN (SELECT seller_id FROM _watched)"
        ).fetchone()[0]
    if not waiting:
        return 0
    try:
        model, version = load_champion(tracking_uri, config.model_name)
    except LookupError:
        return 0  # scores came from elsewhere (no champion): nothing of ours to explain
    key = model_key(model, version, config)
    with connect(warehouse) as con:
        if not table_exists(con, "cloudsword", STATE_TABLE.split(".")[1]):
            return 0
        con.execute("SET enable_progress_bar = false")
        con.register("_explain_sellers", pa.table({"seller_id": pa.array(seller_ids, pa.string())}))
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = 'listing_features'"
            ).fetchall()
        }
        cols = [
            f'CAST(f."{c}" AS DOUBLE) AS "{c}"' if c in present else f'NULL::DOUBLE AS "{c}"'
            for c in model.features
        ]
        # hash_sql names columns bare; qualify nothing else that could clash inside the CTE.
        batch = con.sql(
            f"""
            WITH f AS (
                SELECT *, {hash_sql(con, model.features)} AS _input_hash
                FROM {LISTING_TABLE}
                WHERE {active_filter()}
                  AND seller_id IN (SELECT seller_id FROM _explain_sellers))
            SELECT f.listing_id, {", ".join(f"f.{c}" for c in CATEGORICALS)}, {", ".join(cols)}
            FROM f JOIN {STATE_TABLE} st USING (listing_id)
            JOIN main.listing_scores ls USING (listing_id)
            WHERE NOT st.explained AND st.model_key = $key AND st.input_hash = f._input_hash
              AND ls.model_version = $version
            ORDER BY f.listing_id
            """,
            params={"key": key, "version": version},
        ).to_arrow_table()
        con.unregister("_explain_sellers")
        if batch.num_rows == 0:
            return 0
        x = model.matrix_from_arrow(batch)
        reasons = reasons_for(model, x, np.ones(len(x), bool), config.reasons_top_n)
        con.register(
            "_explained",
            pa.table(
                {
                    "listing_id": batch.column("listing_id").cast(pa.string()),
                    "top_reasons": pa.array(reasons, pa.list_(pa.string())),
                }
            ),
        )
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "UPDATE main.listing_scores AS ls SET top_reasons = e.top_reasons "
                "FROM _explained e WHERE ls.listing_id = e.listing_id"
            )
            con.execute(
                f"UPDATE {STATE_TABLE} SET explained = true "
                "WHERE listing_id IN (SELECT listing_id FROM _explained)"
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return batch.num_rows
