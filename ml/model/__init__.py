"""The listing model: LightGBM on listing features, tracked and registered in MLflow.

Public API (called by the Dagster layer; plain dataclasses in, plain dataclasses out):
``ModelConfig``, ``training_due``, ``train_and_register``, ``score_listings``,
``explain_listings`` (reasons for sellers that came under investigation after scoring).
"""

from ml.model.config import ModelConfig
from ml.model.explain import explain_listings
from ml.model.registry import TrainingDecision, training_due
from ml.model.score import ScoringSummary, score_listings
from ml.model.train import TrainingOutcome, train_and_register

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
