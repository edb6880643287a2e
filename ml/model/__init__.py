"""The listing model: LightGBM on listing features, tracked and registered in MLflow.

Public API (called by the Dagster layer; plain dataclasses in, plain dataclasses out):
``ModelConfig``, ``training_due``, ``train_and_register``, ``score_listings``,
``explain_listings`` (reasons for sellers that came under investigation after scoring).

The names are loaded on first use (PEP 562), so asking whether training is due does not import
LightGBM, scikit-learn and matplotlib, and scoring does not import the training code.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml.model.config import ModelConfig
    from ml.model.explain import explain_listings
    from ml.model.registry import TrainingDecision, training_due
    from ml.model.score import ScoringSummary, score_listings
    from ml.model.train import TrainingOutcome, train_and_register

_MODULES = {
    "ModelConfig": "ml.model.config",
    "explain_listings": "ml.model.explain",
    "TrainingDecision": "ml.model.registry",
    "training_due": "ml.model.registry",
    "ScoringSummary": "ml.model.score",
    "score_listings": "ml.model.score",
    "TrainingOutcome": "ml.model.train",
    "train_and_register": "ml.model.train",
}

__all__ = [
    "ModelConfig",
    "ScoringSummary",
    "TrainingDecision",
    "TrainingOutcome",
    "explain_listings",
    "score_listings",
    "train_and_register",
    "training_due",
]


def __getattr__(name: str) -> object:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULES[name]), name)
