"""A LightGBM booster as branch-free C, compiled with the system's C compiler.

Why not only lleaves: its generated code walks each tree with branches, and on listing features
(hundreds of small trees, splits that go either way) the CPU mispredicts about every other one;
a 500-tree champion then costs ~2.5 us per listing and core. Champion trees are small (the
search space allows 3-6 leaves), so each tree here evaluates *all* its split conditions and
looks its leaf up in a table indexed by the condition bits: no branch to mispredict.
Bigger trees (more than ``MAX_TABLE_NODES`` splits) become plain nested ``if``s.

The decisions follow LightGBM's ``Tree::NumericalDecision`` / ``CategoricalDecision``: a missing
value (NaN) goes to the default side when the split's missing type is NaN, counts as 0.0
otherwise (and as zero for missing type Zero, which sends |v| <= 1e-35 to the default side);
a categorical split truncates the value to an int and sends NaN, negative and unlisted codes
right. The equality with LightGBM's
own prediction is tested (tests/test_scoring_incremental.py). No ``-ffast-math``: it would break
the NaN comparisons this relies on.
"""

from __future__ import annotations

import ctypes
import subprocess
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np

#: Bump when the generated code changes: cached libraries of older versions are not reused.
TREECODE_VERSION = 1
#: Trees with at most this many splits use a leaf table of 2**n entries; larger ones use ifs.
MAX_TABLE_NODES = 8
ZERO = "1.0000000180025095e-35"  # LightGBM's kZeroThreshold, 1e-35f, as a double

PRELUDE = """#include <stdint.h>
static inline int cat_in(double v, const uint32_t *bits, int n) {
    /* LightGBM truncates to int first: -0.5 is category 0. NaN, < 0, beyond the set: right */
    if (!(v > -1.0 && v < (double)n)) return 0;
    int i = (int)v;
    return (int)((bits[i >> 5] >> (i & 31)) & 1u);
}
"""


def _num(v: float) -> str:
    return repr(float(v))  # shortest repr that round-trips exactly


def _condition(node: dict, tables: list[str], tree: int, k: int) -> str:
    """C expression (0/1): does ``node`` send the row left?"""
    v = f"x[{int(node['split_feature'])}]"
    if node["decision_type"] == "==":
        cats = [int(c) for c in str(node["threshold"]).split("||")]
        n = max(cats) + 1
        words = [0] * (n // 32 + 1)
        for c in cats:
            words[c >> 5] |= 1 << (c & 31)
        name = f"C{tree}_{k}"
        tables.append(
            f"static const uint32_t {name}[{len(words)}] = {{{', '.join(f'{w}u' for w in words)}}};"
        )
        return f"cat_in({v}, {name}, {n})"
    thr = _num(node["threshold"])
    left_on_missing = bool(node["default_left"])
    missing = node["missing_type"]
    if missing == "NaN":  # NaN compares false: !(v > t) is true for NaN, (v <= t) is false
        return f"!({v} > {thr})" if left_on_missing else f"({v} <= {thr})"
    if missing == "None":  # NaN is read as 0.0
        return f"!({v} > {thr})" if float(node["threshold"]) >= 0.0 else f"({v} <= {thr})"
    if missing == "Zero":  # NaN is 0.0, and zero goes to the default side
        zero = f"(!({v} < -{ZERO}) && !({v} > {ZERO}))"
        return f"({zero} ? {int(left_on_missing)} : ({v} <= {thr}))"
    raise ValueError(f"unknown missing type {missing!r}")


def _splits(node: dict, out: list[dict]) -> list[dict]:
    if "leaf_value" not in node:
        out.append(node)
        _splits(node["left_child"], out)
        _splits(node["right_child"], out)
    return out


def _leaf(node: dict, goes_left: dict[int, bool]) -> float:
    while "leaf_value" not in node:
        node = node["left_child"] if goes_left[id(node)] else node["right_child"]
    return float(node["leaf_value"])


def _ifs(node: dict, tables: list[str], tree: int, counter: list[int], indent: str) -> str:
    if "leaf_value" in node:
        return f"{indent}s += {_num(node['leaf_value'])};\n"
    counter[0] += 1
    cond = _condition(node, tables, tree, counter[0])
    inner = indent + "    "
    return (
        f"{indent}if ({cond}) {{\n{_ifs(node['left_child'], tables, tree, counter, inner)}"
        f"{indent}}} else {{\n{_ifs(node['right_child'], tables, tree, counter, inner)}"
        f"{indent}}}\n"
    )


def _tree(t: dict, tree: int, tables: list[str]) -> str:
    root = t["tree_structure"]
    splits = _splits(root, [])
    if not splits:
        return f"        s += {_num(root['leaf_value'])};\n"
    if len(splits) > MAX_TABLE_NODES:
        return _ifs(root, tables, tree, [0], "        ")
    # Leaf for every combination of condition bits (bit k = split k sends the row left).
    leaves = []
    for mask in range(1 << len(splits)):
        leaves.append(_leaf(root, {id(s): bool(mask >> k & 1) for k, s in enumerate(splits)}))
    tables.append(
        f"static const double L{tree}[{len(leaves)}] = {{{', '.join(map(_num, leaves))}}};"
    )
    bits = " | ".join(f"({_condition(s, tables, tree, k)}) << {k}" for k, s in enumerate(splits))
    return f"        s += L{tree}[{bits}];\n"


def c_source(booster: lgb.Booster) -> str:
    """C source of ``cs_margin(X, start, end, stride, out)``: raw margins of rows start..end."""
    dump = booster.dump_model()
    if dump.get("num_tree_per_iteration", 1) != 1 or dump.get("average_output"):
        raise ValueError("only single-output, summed boosters are supported")
    tables: list[str] = []
    body = "".join(_tree(t, i, tables) for i, t in enumerate(dump["tree_info"]))
    return (
        PRELUDE
        + "\n".join(tables)
        + "\nvoid cs_margin(const double *X, int64_t start, int64_t end, int64_t stride, "
        "double *out) {\n"
        "    for (int64_t r = start; r < end; ++r) {\n"
        "        const double *x = X + r * stride;\n"
        "        double s = 0.0;\n"
        f"{body}"
        "        out[r] = s;\n"
        "    }\n"
        "}\n"
    )


def build_library(booster: lgb.Booster, target: Path, cc: str = "gcc") -> None:
    """Generate and compile the shared library to ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "model.c"
        src.write_text(c_source(booster))
        done = subprocess.run(
            [cc, "-O2", "-march=native", "-shared", "-fPIC", "-o", str(target), str(src)],
            capture_output=True,
            text=True,
            timeout=600,  # a pathological forest falls back to lleaves rather than hang scoring
        )
        if done.returncode != 0:
            raise RuntimeError(f"{cc} failed ({done.returncode}): {done.stderr[-2000:]}")


class TreeLibrary:
    """The compiled booster: ``margin(x)`` over a float64 matrix, rows split across threads."""

    def __init__(self, path: Path, num_features: int, num_threads: int = 2) -> None:
        self._lib = ctypes.CDLL(str(path))
        self._fn = self._lib.cs_margin
        dptr = ctypes.POINTER(ctypes.c_double)
        self._fn.argtypes = [dptr, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, dptr]
        self._fn.restype = None
        self.num_features = num_features
        self.num_threads = max(1, num_threads)

    def margin(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (n, {self.num_features}) features, got {x.shape}")
        out = np.empty(len(x), dtype=np.float64)
        dptr = ctypes.POINTER(ctypes.c_double)
        xp, op = x.ctypes.data_as(dptr), out.ctypes.data_as(dptr)
        n, stride = len(x), x.shape[1]
        if self.num_threads == 1 or n < 4096:
            self._fn(xp, 0, n, stride, op)
            return out
        # ctypes releases the GIL during the call, so threads run the halves in parallel.
        from concurrent.futures import ThreadPoolExecutor

        step = -(-n // self.num_threads)
        with ThreadPoolExecutor(self.num_threads) as pool:
            done = [
                pool.submit(self._fn, xp, a, min(a + step, n), stride, op)
                for a in range(0, n, step)
            ]
            for d in done:
                d.result()
        return out
