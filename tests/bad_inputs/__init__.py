"""A catalog of bad inputs: each case copies a valid generated batch and plants ONE defect.

``CASES`` is the catalog (see ``catalog.py``); ``tests/test_bad_inputs.py`` runs every case and
``docs/ingestion.md`` lists them with what ingestion does in each.
"""

from bad_inputs.catalog import CASES, Case, Planted

__all__ = ["CASES", "Case", "Planted"]
