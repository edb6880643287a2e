"""The logged model: a LightGBM booster plus its category vocabularies and Platt calibration.

MLflow logs this file as a "model from code", so loading the model needs LightGBM, NumPy,
pandas and PyArrow but not cloudsword: keep this module free of ``ml`` imports. Its state lives
in two artifacts, ``booster`` (LightGBM text model) and ``meta`` (JSON: features, vocabularies,
calibration), read by ``load_context``.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class CounterfeitModel(mlflow.pyfunc.PythonModel):
    """Calibrated counterfeit probability for a frame (or Arrow batch) of listing features."""

    def __init__(self, booster: lgb.Booster | None = None, meta: dict | None = None) -> None:
        # The instance MLflow builds from this file has neither; ``load_context`` fills them.
        if meta is not None:
            self._setup(booster, meta)

    def load_context(self, context) -> None:
        booster = lgb.Booster(model_file=context.artifacts["booster"])
        self._setup(booster, json.loads(Path(context.artifacts["meta"]).read_text()))

    def _setup(self, booster: lgb.Booster | None, meta: dict) -> None:
        self.booster = booster
        self.meta = meta
        self.features: list[str] = list(meta["features"])
        self.vocab: dict[str, list[str]] = {k: list(v) for k, v in meta["categoricals"].items()}
        self.slope = float(meta["calibration"]["slope"])
        self.intercept = float(meta["calibration"]["intercept"])
        self.num_threads = int(meta.get("num_threads", 2))

    @property
    def columns(self) -> list[str]:
        """Booster input order: numeric features, then categorical codes."""
        return self.features + list(self.vocab)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Row-major float64 matrix; missing columns and unseen categories become NaN."""
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        out[:, : len(self.features)] = frame.reindex(columns=self.features).to_numpy(np.float64)
        for j, (name, vocab) in enumerate(self.vocab.items(), start=len(self.features)):
            codes = pd.Index(vocab).get_indexer(frame[name].astype(object))
            out[:, j] = np.where(codes < 0, np.nan, codes)
        return out

    def matrix_from_arrow(self, batch: pa.RecordBatch | pa.Table) -> np.ndarray:
        """The same matrix from an Arrow batch whose feature columns are DOUBLE."""
        out = np.empty((batch.num_rows, len(self.columns)), dtype=np.float64)
        for j, name in enumerate(self.features):
            out[:, j] = batch.column(name).to_numpy(zero_copy_only=False)
        for j, (name, vocab) in enumerate(self.vocab.items(), start=len(self.features)):
            values = batch.column(name).cast(pa.string())
            codes = pc.index_in(values, value_set=pa.array(vocab, pa.string()))
            out[:, j] = codes.to_numpy(zero_copy_only=False)
        return out

    def margin(self, x: np.ndarray) -> np.ndarray:
        return self.booster.predict(x, raw_score=True, num_threads=self.num_threads)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        return sigmoid(self.slope * margin + self.intercept)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return self.calibrate(self.margin(x))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature SHAP contributions (raw margin scale); last column is the bias."""
        return self.booster.predict(x, pred_contrib=True, num_threads=self.num_threads)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        score = self.probability(self.matrix(pd.DataFrame(model_input)))
        return pd.DataFrame({"counterfeit_score": score})


mlflow.models.set_model(CounterfeitModel())
