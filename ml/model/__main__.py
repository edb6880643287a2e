"""``python -m ml.model [--home H] due|train|score``: the model steps without Dagster.

Prints the result as JSON, so the numbers in docs can be reproduced, e.g.
``CLOUDSWORD_HOME=/tmp/h python -m ml.model train``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from ml.model import ModelConfig, score_listings, train_and_register, training_due
from ml.settings import Home
from ml.warehouse import utc_now, writer_lock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ml.model", description=__doc__)
    parser.add_argument("step", choices=["due", "train", "score"])
    parser.add_argument("--home", default=None, help="CLOUDSWORD_HOME (default: env/default)")
    parser.add_argument("--trials", type=int, default=None, help="search trials")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    home = Home.resolve(args.home).ensure()
    overrides = {k: v for k, v in (("search_trials", args.trials), ("seed", args.seed)) if v}
    config = ModelConfig(**overrides)
    uri = home.mlflow_tracking_uri
    if args.step == "due":
        result = training_due(home.warehouse, uri, config)
    elif args.step == "train":
        result = train_and_register(home.warehouse, uri, home.mlflow_artifacts, config)
    else:
        with writer_lock(home.warehouse):
            result = score_listings(home.warehouse, uri, utc_now(), config)
    print(json.dumps(dataclasses.asdict(result), indent=2, default=str))


if __name__ == "__main__":
    main()
