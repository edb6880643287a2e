"""Settings of the listing model: training, evaluation, promotion gate and scoring."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: Feature columns are recognised by these family prefixes (see docs/architecture.md).
FEATURE_PREFIXES = ("prod_", "cons_", "rep_", "sell_")
#: Categoricals the booster handles natively; their vocabularies travel inside the model.
CATEGORICALS = ("brand", "category")


def _default_space() -> dict[str, tuple]:
    # Small and regularised: a few hundred labels and ~360 features; shallow trees, strong
    # column subsampling and L2 generalised best to the newer test window at scale small.
    return {
        "learning_rate": (0.02, 0.05),
        "num_leaves": (3, 4, 6),
        "min_data_in_leaf": (20, 40),
        "feature_fraction": (0.1, 0.2, 0.3),
        "bagging_fraction": (0.7, 0.9),
        "lambda_l2": (5.0, 10.0, 20.0),
        "extra_trees": (False, True),
    }


@dataclass(frozen=True)
class ModelConfig:
    """Everything a training or scoring run needs besides the paths."""

    model_name: str = "cloudsword-listing"
    experiment: str = "cloudsword-listing"
    search_trials: int = 8
    seed: int = 7
    k: int = 100
    """Top-k for precision/recall at k: how many listings investigators can check."""
    fpr: float = 0.01
    """Recall is reported at this false-positive rate."""
    promotion_margin: float = 0.005
    """A challenger must beat the champion's test PR-AUC by at least this much."""
    slice_tolerance: float = 0.05
    """...and no brand/category slice may lose more PR-AUC than this."""
    min_slice_size: int = 30
    """Slices smaller than this (or with one class only) are reported but never gate."""
    min_new_outcomes: int = 50
    """Training is due once this many outcomes were decided after the champion's data cutoff."""
    valid_fraction: float = 0.2
    test_fraction: float = 0.2
    num_boost_round: int = 600
    early_stopping_rounds: int = 40
    features: tuple[str, ...] = ()
    """Restrict training to these feature columns; empty means every prefixed column."""
    search_space: dict[str, tuple] = field(default_factory=_default_space)
    reasons_top_n: int = 3
    reasons_min_score: float = 0.5
    """Reasons (SHAP contributions) are computed for listings scoring at least this, and for
    every listing of a seller in a ring or an open lead; the rest are not read by anyone."""
    compile_model: bool = True
    """Score with the champion compiled to machine code (same margins, ml/model/compiled.py);
    with LightGBM itself when False."""
    score_batch_rows: int = 262_144
    num_threads: int = 2
    """Threads for scoring. Training uses ``train_threads``: small data gains nothing from
    threads, and OpenMP spinning on a busy machine slows it down by an order of magnitude."""
    train_threads: int = 1
    max_bin: int = 63

    def as_params(self) -> dict[str, object]:
        """Flat values for ``mlflow.log_params`` (the search space is logged per trial)."""
        params = asdict(self)
        params.pop("search_space")
        params["features"] = ",".join(self.features) or "all"
        return params
