"""Leads: ranked, evidence-backed cases for investigators (see docs/architecture.md).

The orchestration layer calls ``build_leads`` (writes ``main.leads`` and the registry) and then
``export_leads`` (writes ``exports/``); investigators' tools call ``list_leads``, ``get_lead``,
``set_status``; training may call ``outcome_labels``. Each call opens one DuckDB connection and
closes it before returning.
"""

from ml.leads.build import LEADS_COLUMNS, LeadsSummary, build_leads
from ml.leads.config import LeadConfig, PriorityWeights
from ml.leads.export import ExportSummary, export_leads
from ml.leads.registry import (
    STATUSES,
    TRANSITIONS,
    InvalidTransition,
    UnknownLead,
    get_lead,
    list_leads,
    outcome_labels,
    set_status,
)

__all__ = [
    "LEADS_COLUMNS",
    "STATUSES",
    "TRANSITIONS",
    "ExportSummary",
    "InvalidTransition",
    "LeadConfig",
    "LeadsSummary",
    "PriorityWeights",
    "UnknownLead",
    "build_leads",
    "export_leads",
    "get_lead",
    "list_leads",
    "outcome_labels",
    "set_status",
]
