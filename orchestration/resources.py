"""Resources shared by every asset: the cloudsword home and the dbt CLI."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg

from ml.settings import Home
from ml.warehouse import writer_lock


class CloudswordHome(dg.ConfigurableResource):
    """The cloudsword home (``CLOUDSWORD_HOME``) that every asset reads and writes."""

    root: str

    @property
    def paths(self) -> Home:
        return Home(Path(self.root))

    def writing(self) -> AbstractContextManager[None]:
        """Hold the warehouse writer lock for the duration of a writing step."""
        return writer_lock(self.paths.warehouse)
