"""Settings of lead building: which candidates count, how many become case packages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the priority components (see ``ml.leads.priority``); they sum to 1."""

    risk: float = 0.40
    value: float = 0.20
    evidence: float = 0.20
    breadth: float = 0.10
    recency: float = 0.10


@dataclass(frozen=True)
class LeadConfig:
    #: How many candidates (best first) become leads with a full case package.
    max_leads: int = 500
    #: A seller outside every ring and high-risk source becomes a lead of its own from here.
    min_seller_risk: float = 0.7
    #: A source none of whose sellers is in a ring becomes a lead of its own from here.
    min_source_risk: float = 0.5
    #: Per lead: riskiest listings, linked identifiers, accounts, shipments kept in the package.
    max_listings: int = 20
    max_identifiers: int = 50
    max_accounts: int = 30
    max_shipment_groups: int = 20
    max_reports: int = 10
    max_outcomes: int = 50
    max_reviews: int = 10
    #: A listing counts as high-risk from this counterfeit_score.
    high_risk_listing: float = 0.5
    #: Value (CNY) at which the value component saturates at 1.
    value_cap_cny: float = 10_000_000.0
    #: Sellers / brands at which the breadth sub-components saturate at 1.
    sellers_cap: int = 50
    brands_cap: int = 20
    #: Recency halves every this many days since the lead's last activity.
    recency_half_life_days: float = 90.0
    weights: PriorityWeights = field(default_factory=PriorityWeights)
