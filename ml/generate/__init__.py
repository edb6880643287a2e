"""Synthetic marketplace generator: landing batches per ``shared/DATA_CONTRACT.md`` plus the
ground truth (rings, sources, counterfeit listings) the pipeline is measured against.

    from ml.generate import generate, SCALES
    summary = generate(home.landing, home.truth, scale="tiny", seed=0)
"""

from ml.generate.core import GenerationSummary, generate
from ml.generate.timeline import SCALES, Scale

__all__ = ["SCALES", "GenerationSummary", "Scale", "generate"]
