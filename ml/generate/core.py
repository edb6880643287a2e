"""``generate``: write a synthetic marketplace as landing batches, plus its ground truth."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ml.contract import CONTRACT_VERSION, INGEST_ORDER, SUCCESS_MARKER, TABLES
from ml.generate.events import BatchEvents
from ml.generate.timeline import SCALES
from ml.generate.truth import write_truth
from ml.generate.world import Progress, build_world
from ml.generate.writer import write_table


@dataclass(frozen=True)
class GenerationSummary:
    scale: str
    seed: int
    contract_version: int
    landing_dir: Path
    truth_dir: Path
    batch_ids: list[str]
    #: rows written per table, over all batches
    rows: dict[str, int]
    rows_per_batch: dict[str, dict[str, int]]
    files: list[Path]
    #: entity counts of the ground truth (sellers, counterfeit_listings, rings, ...)
    truth_counts: dict[str, int] = field(default_factory=dict)


def generate(
    landing_dir: Path,
    truth_dir: Path,
    scale: str = "tiny",
    seed: int = 0,
    progress: Progress | None = None,
    *,
    overwrite: bool = False,
) -> GenerationSummary:
    """Write a synthetic marketplace into ``landing_dir/<batch_id>/`` and its truth files.

    Same ``scale`` and ``seed`` give byte-identical files. Batches are written one after the
    other, each table in chunks, each batch's ``_SUCCESS`` last. Batch folders that already exist
    are an error unless ``overwrite`` (then they are replaced). ``progress(stage, done, total)``
    is called as stages advance ("world", "batches", "truth").
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    world = build_world(SCALES[scale], seed, progress)
    batch_ids = list(world.windows.batch_ids)
    existing = [b for b in batch_ids if (landing_dir / b).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{landing_dir} already holds batch(es) {', '.join(existing)}; "
            "use a fresh landing folder or overwrite=True"
        )
    events = BatchEvents(world)
    rows = dict.fromkeys(INGEST_ORDER, 0)
    rows_per_batch: dict[str, dict[str, int]] = {}
    files: list[Path] = []
    total = len(batch_ids) * len(INGEST_ORDER)
    for b, batch_id in enumerate(batch_ids):
        batch_dir = landing_dir / batch_id
        if batch_dir.exists():
            shutil.rmtree(batch_dir)
        batch_dir.mkdir(parents=True)
        rows_per_batch[batch_id] = {}
        for t, name in enumerate(INGEST_ORDER):
            n = write_table(batch_dir, TABLES[name], events.table(name, b))
            rows_per_batch[batch_id][name] = n
            rows[name] += n
            if progress:
                progress("batches", b * len(INGEST_ORDER) + t + 1, total)
        # Written last, after every table file of the batch is closed: the batch is complete.
        (batch_dir / SUCCESS_MARKER).write_bytes(b"")
        files.extend(sorted(p for p in batch_dir.iterdir() if p.is_file()))
    if progress:
        progress("truth", 0, 1)
    counts = write_truth(world, truth_dir, events.variant_shipments, batch_ids)
    files.extend(sorted(truth_dir.iterdir()))
    if progress:
        progress("truth", 1, 1)
    return GenerationSummary(
        scale=scale,
        seed=seed,
        contract_version=CONTRACT_VERSION,
        landing_dir=landing_dir,
        truth_dir=truth_dir,
        batch_ids=batch_ids,
        rows=rows,
        rows_per_batch=rows_per_batch,
        files=files,
        truth_counts=counts,
    )
