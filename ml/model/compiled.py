"""The champion's booster compiled to machine code with lleaves, cached per model version.

LightGBM's own predictor copies every row into a buffer before walking the trees; with ~360
features that copy dominates, and it reached ~400k listings/s on two cores at scale large.
lleaves compiles the trees (through LLVM) into one function over the row-major matrix we already
build, and gives the same raw margins (tested to 1e-6; in practice ~1e-15).

Compiling takes seconds to a minute for a few hundred trees, so the object file is cached in the
home, keyed by the model text, lleaves/llvmlite versions and this machine's CPU (the code is
compiled for the host CPU and may not run elsewhere). Whatever goes wrong, scoring falls back to
LightGBM and says why: the compiled path is an optimisation, never a requirement.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import lightgbm as lgb
import numpy as np

log = logging.getLogger(__name__)

Margin = Callable[[np.ndarray], np.ndarray]


@dataclass
class CompiledMargin:
    """``margin(x)`` (raw booster score) from the compiled champion, or the reason there is none."""

    margin: Margin | None
    reason: str
    cache_file: Path | None = None


def _host_key() -> str:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    return f"{llvm.get_host_cpu_name()}|{llvm.get_host_cpu_features().flatten()}"


def cache_key(model_text: str) -> str:
    """What decides whether a cached object may be reused."""
    parts = [
        model_text,
        metadata.version("lleaves"),
        metadata.version("llvmlite"),
        _host_key(),
        "raw_score=1",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    # A killed run must never leave a half-written object that a later run would load.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)  # lleaves compiles only when the cache path does not exist yet
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_booster(
    booster: lgb.Booster, cache_dir: Path, label: str = "model", num_threads: int = 2
) -> CompiledMargin:
    """Compile (or load from ``cache_dir``) ``booster``; fall back with a reason on any error."""
    try:
        import lleaves
    except ImportError as exc:  # optional at run time: LightGBM still scores
        return CompiledMargin(None, f"lleaves is not installed ({exc})")
    try:
        text = booster.model_to_string()
        key = cache_key(text)
        cache_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{label}-{key}"
        model_file = cache_dir / f"{stem}.txt"
        obj = cache_dir / f"{stem}.o"
        if not model_file.exists():
            _atomic_write(model_file, lambda p: p.write_text(text))
        model = lleaves.Model(model_file=str(model_file))
        if obj.exists():
            model.compile(cache=str(obj), raw_score=True)
            reason = f"loaded compiled model {obj.name}"
        else:
            # Compile into a temp file, then rename: the cache only ever holds whole objects.
            def build(tmp: Path) -> None:
                model.compile(cache=str(tmp), raw_score=True)

            _atomic_write(obj, build)
            reason = f"compiled model to {obj.name}"
    except Exception as exc:  # noqa: BLE001 - any failure means: score with LightGBM instead
        return CompiledMargin(None, f"compiling the model failed: {type(exc).__name__}: {exc}")

    def margin(x: np.ndarray) -> np.ndarray:
        return model.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=num_threads)

    return CompiledMargin(margin, reason, obj)
