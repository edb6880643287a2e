"""Loading the champion from the registry, and the key that says which scores it produced."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow

from ml.model.compiled import CompiledMargin, compile_booster
from ml.model.config import ModelConfig
from ml.model.pyfunc_model import CounterfeitModel
from ml.model.registry import CHAMPION, version_by_alias
from ml.model.tracking import tracking

#: Bump when the scoring logic changes in a way that must rescore everything (hash, reasons).
SCORING_LOGIC = 1


def load_champion(tracking_uri: str, model_name: str) -> tuple[CounterfeitModel, str]:
    """The champion pyfunc's Python model (booster, vocabularies, calibration) and its version."""
    with tracking(tracking_uri) as client:
        version = version_by_alias(client, model_name, CHAMPION)
        if version is None:
            raise LookupError(f"no {CHAMPION} for model {model_name!r}: train a model first")
        loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION}")
    return loaded.unwrap_python_model(), str(version.version)


def model_key(model: CounterfeitModel, version: str, config: ModelConfig) -> str:
    """Everything besides a listing's own data that decides its score and reasons: the model
    version, its calibration and features, the reasons settings. When it changes, every
    listing is rescored."""
    described = {
        "version": version,
        "slope": model.slope,
        "intercept": model.intercept,
        "columns": model.columns,
        "vocab": model.vocab,
        "reasons_top_n": config.reasons_top_n,
        "reasons_min_score": config.reasons_min_score,
        "logic": SCORING_LOGIC,
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]
    return f"{version}:{digest}"


def fast_margin(
    model: CounterfeitModel, version: str, home: Path, config: ModelConfig
) -> CompiledMargin:
    """The compiled booster when enabled and it builds; otherwise no margin and the reason."""
    if not config.compile_model:
        return CompiledMargin(None, "compilation disabled (ModelConfig.compile_model)")
    return compile_booster(
        model.booster,
        home / "cache" / "compiled_models",
        label=f"{config.model_name}-v{version}",
        num_threads=model.num_threads,
    )
