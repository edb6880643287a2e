"""Where a cloudsword home keeps its things, and the settings that steer a run.

One home (``CLOUDSWORD_HOME``) holds everything: landing zone, warehouse, exports, MLflow store,
Dagster instance, quarantine and logs. Two homes never share state.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

#: The checkout this package was imported from (``ml/`` sits at its top level).
CHECKOUT = Path(__file__).resolve().parent.parent

#: Used when neither ``--home`` nor ``CLOUDSWORD_HOME`` says otherwise.
DEFAULT_HOME = CHECKOUT / "cloudsword_home"

ENV_HOME = "CLOUDSWORD_HOME"


#: Files a cloudsword process creates are readable by their owner only (see Home.ensure).
PRIVATE_UMASK = 0o077

#: Where an MLflow 3 SQLite store keeps absolute artifact URIs.
MLFLOW_ARTIFACT_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching strings that start with ``text`` (with \\ as escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class Home:
    """The paths of one cloudsword home. Creating the object touches nothing on disk."""

    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Home:
        """``home`` if given, else ``$CLOUDSWORD_HOME``, else the documented default."""
        chosen = home or os.environ.get(ENV_HOME) or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        """Ground truth written by the generator; the pipeline never reads it."""
        return self.root / "truth"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow" / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.root / "mlflow" / "artifacts"

    @property
    def mlflow_tracking_uri(self) -> str:
        return os.environ.get("CLOUDSWORD_MLFLOW_TRACKING_URI") or f"sqlite:///{self.mlflow_db}"

    @property
    def mlflow_ui_url(self) -> str:
        """Where `cloudsword ui` serves MLflow (for links in Dagster metadata)."""
        return os.environ.get("CLOUDSWORD_MLFLOW_UI_URL", "http://127.0.0.1:5000").rstrip("/")

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for builds in this home. One stable folder, not one per run, so
        dbt keeps its partial-parse state (the profile names this home, so the checkout's own
        target folder never matches it)."""
        return self.root / "dbt_target"

    def ensure(self) -> Home:
        """Create the folders a run writes to, and an (empty) Dagster instance config.

        A home holds raw phones, payment accounts and ID hashes (the warehouse), and the
        MLflow, Dagster and log files derived from them: the home is made private to its owner
        (0700), its databases 0600, and this process creates files 0600 from here on.
        """
        os.umask(PRIVATE_UMASK)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        for path in (
            self.landing,
            self.exports,
            self.mlflow_artifacts,
            self.dagster_home,
            self.logs,
        ):
            path.mkdir(parents=True, exist_ok=True)
        dagster_yaml = self.dagster_home / "dagster.yaml"
        if not dagster_yaml.exists():
            # Queued runs go one at a time: every run writes the one DuckDB warehouse.
            dagster_yaml.write_text(
                "# Dagster instance of this cloudsword home (local storage under this folder).\n"
                "telemetry:\n  enabled: false\n"
                "run_queue:\n  max_concurrent_runs: 1\n"
                # Evaluates the freshness policies of the leads (shown on their asset pages).
                "freshness:\n  enabled: true\n"
            )
        # The embedded Dagster UI would greet each new home with a newsletter sign-up dialog
        # that covers the page; mark it as seen, as dismissing it would.
        nux = self.dagster_home / ".nux" / "nux.yaml"
        if not nux.exists():
            nux.parent.mkdir(exist_ok=True)
            nux.write_text("seen: 1\n")
        self._relocate_mlflow()
        for folder in (self.root, self.mlflow_db.parent, self.dagster_home, self.logs):
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink():
                    path.chmod(0o600)
        return self

    def _relocate_mlflow(self) -> None:
        """Point the MLflow store at this home's artifacts after the home was copied or moved.

        MLflow keeps absolute artifact URIs (experiment, runs, model versions). Without this a
        moved home would write new models into the old folder, and fail to load its champion once
        that folder is gone. Only this home's own SQLite store is touched, only when it differs.
        """
        db = self.mlflow_db
        if os.environ.get("CLOUDSWORD_MLFLOW_TRACKING_URI") or not db.is_file():
            return
        new = self.mlflow_artifacts.resolve().as_uri()
        with closing(sqlite3.connect(db)) as con, con:
            olds = [
                row[0]
                for row in con.execute(
                    "SELECT artifact_location FROM experiments "
                    "WHERE artifact_location LIKE 'file://%/mlflow/artifacts' "
                    "AND artifact_location <> ?",
                    [new],
                )
            ]
            for old in olds:
                for table, column in MLFLOW_ARTIFACT_COLUMNS:
                    con.execute(
                        f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                        f"WHERE {column} = ? OR {column} LIKE ? ESCAPE '\\'",
                        [new, len(old) + 1, old, _like_prefix(old + "/")],
                    )

    def export_env(self) -> None:
        """Point child processes (dbt, Dagster, MLflow) at this home."""
        os.environ[ENV_HOME] = str(self.root)
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
