"""The champion's booster compiled to machine code, cached in the home per model version.

LightGBM's own predictor copies every row into a buffer before walking the trees; with ~360
features that copy dominates (~400k listings/s on two cores at scale large). Two compilers give
the same raw margins (tested to 1e-6; in practice bit for bit) several times faster:

1. ``treecode``: our branch-free C (``ml/model/treecode.py``) built with the system's ``gcc``;
   the fastest (see docs/benchmarks.md), but needs a C compiler on the scoring machine;
2. ``lleaves``: LLVM through llvmlite, a pure Python dependency, for machines without gcc.

Compiling takes seconds to a minute for a few hundred trees, so the library is cached in the
home, keyed by the model text, the compiler and this machine's CPU (code is built for the host
CPU and may not run elsewhere); written to a temp name and renamed, so a killed run never
leaves half a library. Every compiled model must reproduce LightGBM on probe rows before it is
used. Whatever goes wrong, scoring falls back (treecode -> lleaves -> LightGBM) and says why:
the compiled path is an optimisation, never a requirement.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import lightgbm as lgb
import numpy as np

from ml.model.treecode import TREECODE_VERSION, TreeLibrary, build_library

Margin = Callable[[np.ndarray], np.ndarray]
#: A compiled model must match LightGBM's raw margins on probe rows to this much.
TOLERANCE = 1e-6


@dataclass
class CompiledMargin:
    """``margin(x)`` (raw booster score) from the compiled champion, or the reason there is none."""

    margin: Margin | None
    reason: str
    kind: str = "lightgbm"
    cache_file: Path | None = None


def _host_cpu() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        keep = [ln for ln in lines if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        keep = []
    return "|".join([platform.machine(), platform.processor(), *keep])


def cache_key(model_text: str, compiler: str) -> str:
    """What decides whether a cached library may be reused."""
    parts = [model_text, compiler, _host_cpu(), "raw_score=1"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _atomic_build(path: Path, build: Callable[[Path], None]) -> None:
    # A killed run must never leave a half-written library that a later run would load.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)  # lleaves compiles only when its cache path does not exist yet
    try:
        build(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def probe_rows(booster: lgb.Booster, n: int = 256, seed: int = 0) -> np.ndarray:
    """Rows that take many paths: around each split threshold, zeros, NaN, odd category codes."""
    rng = np.random.default_rng(seed)
    width = booster.num_feature()
    thresholds = booster.trees_to_dataframe()["threshold"]
    numeric = thresholds[thresholds.map(lambda t: isinstance(t, float))].to_numpy(float)
    picks = numeric[np.isfinite(numeric)] if len(numeric) else np.zeros(1)
    x = rng.choice(picks, (n, width))  # exactly on thresholds: the <= side
    x[::2] += rng.normal(0, 1e-3, (len(x[::2]), width))  # and either side of them
    x[rng.uniform(size=x.shape) < 0.15] = np.nan
    x[rng.uniform(size=x.shape) < 0.15] = 0.0
    cats = rng.uniform(size=x.shape) < 0.1
    x[cats] = rng.integers(-2, 40, cats.sum())
    return x


def _checked(booster: lgb.Booster, margin: Margin) -> float:
    x = probe_rows(booster)
    return float(np.max(np.abs(margin(x) - booster.predict(x, raw_score=True))))


def compile_treecode(
    booster: lgb.Booster, cache_dir: Path, label: str, num_threads: int, text: str
) -> CompiledMargin:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc/cc) on PATH")
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    lib_file = cache_dir / f"{label}-{cache_key(text, f'treecode{TREECODE_VERSION}|{version}')}.so"
    loaded = lib_file.exists()
    if not loaded:
        _atomic_build(lib_file, lambda tmp: build_library(booster, tmp, cc))
    lib = TreeLibrary(lib_file, booster.num_feature(), num_threads)
    what = "loaded" if loaded else "compiled"
    return CompiledMargin(lib.margin, f"{what} {lib_file.name} (treecode)", "treecode", lib_file)


def compile_lleaves(
    booster: lgb.Booster, cache_dir: Path, label: str, num_threads: int, text: str
) -> CompiledMargin:
    import lleaves

    versions = f"lleaves{metadata.version('lleaves')}|llvmlite{metadata.version('llvmlite')}"
    stem = f"{label}-{cache_key(text, versions)}"
    model_file, obj = cache_dir / f"{stem}.txt", cache_dir / f"{stem}.o"
    if not model_file.exists():
        _atomic_build(model_file, lambda p: p.write_text(text))
    model = lleaves.Model(model_file=str(model_file))
    loaded = obj.exists()
    if loaded:
        model.compile(cache=str(obj), raw_score=True)
    else:
        _atomic_build(obj, lambda tmp: model.compile(cache=str(tmp), raw_score=True))

    def margin(x: np.ndarray) -> np.ndarray:
        return model.predict(np.ascontiguousarray(x, dtype=np.float64), n_jobs=num_threads)

    what = "loaded" if loaded else "compiled"
    return CompiledMargin(margin, f"{what} {obj.name} (lleaves)", "lleaves", obj)


COMPILERS = {"treecode": compile_treecode, "lleaves": compile_lleaves}


def compile_booster(
    booster: lgb.Booster,
    cache_dir: Path,
    label: str = "model",
    num_threads: int = 2,
    compilers: tuple[str, ...] = ("treecode", "lleaves"),
) -> CompiledMargin:
    """The first of ``compilers`` that builds (or loads from ``cache_dir``) ``booster`` and
    reproduces LightGBM on probe rows; otherwise no margin and every reason why."""
    text = booster.model_to_string()
    cache_dir.mkdir(parents=True, exist_ok=True)
    failures = []
    for name in compilers:
        try:
            compiled = COMPILERS[name](booster, cache_dir, label, num_threads, text)
            diff = _checked(booster, compiled.margin)
            if not diff <= TOLERANCE:
                raise ValueError(f"differs from LightGBM by {diff:.3g} on probe rows")
            return compiled
        except Exception as exc:  # any failure means: try the next, finally LightGBM itself
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return CompiledMargin(None, "compiling the model failed; " + "; ".join(failures))
