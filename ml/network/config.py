"""Settings of network tracing: which identifiers link sellers, how strongly, and the hub guard.

Link kinds and why they weigh what they do:

* hard (base weight 1.0): one payment account (alipay, bank card, bank account), phone number,
  ID document or business licence is, outside a hub, one person or one company.
* soft (0.15 .. 0.5): a device, an IP address, an e-mail, a ship-from address, an upstream sender
  address or a reused product photo is shared by unrelated sellers more often (shared offices,
  NAT, agencies, public photos), so alone it is weak evidence and several are needed for a tie.

Registration details (shop names, holder names, registered province or city) are never link
kinds: nominees fill them in, so they would tie strangers together.

Hub guard: an identifier shared by more sellers than ``max_sellers`` of its kind (a logistics hub
address, a mall's public IP, an e-commerce agency's bank account) is dropped. Below that an
identifier shared by ``n`` sellers weighs ``base / (1 + hub_decay * ln(n / 2))`` (IDF-style), so
two sellers sharing a private phone are tied more closely than twelve sharing one account.

Two sellers' tie is the sum over kinds of the strongest identifier of that kind they share (five
shared IPs of one office are still one kind of evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

HARD_KINDS = ("alipay", "bank_card", "bank_account", "phone", "id_document", "business_license")
SOFT_KINDS = ("device", "ip", "email", "ship_from_address", "sender_address", "image_phash")
LINK_KINDS = HARD_KINDS + SOFT_KINDS


def _default_weights() -> dict[str, float]:
    return {
        "alipay": 1.0,
        "bank_card": 1.0,
        "bank_account": 1.0,
        "phone": 1.0,
        "id_document": 1.0,
        "business_license": 1.0,
        "device": 0.5,
        "email": 0.4,
        "ship_from_address": 0.25,
        "image_phash": 0.25,
        "sender_address": 0.15,
        "ip": 0.15,
    }


def _default_max_sellers() -> dict[str, int]:
    # A counterfeit ring shares its hard identifiers among a few to a few dozen shops; more than
    # that is an agency or a platform artefact. Soft identifiers reach hub size sooner.
    return {
        "alipay": 30,
        "bank_card": 30,
        "bank_account": 30,
        "phone": 30,
        "id_document": 30,
        "business_license": 30,
        "device": 20,
        "email": 10,
        "ship_from_address": 20,
        "image_phash": 15,
        "sender_address": 20,
        "ip": 15,
    }


#: Contract tables the network reads, as staging relations.
INPUTS = (
    "sellers",
    "seller_payment_accounts",
    "seller_logins",
    "listings",
    "inbound_shipments",
    "orders",
    "reports",
    "enforcement_outcomes",
)


@dataclass(frozen=True)
class NetworkConfig:
    """Every knob of network tracing; the defaults are the documented choices."""

    #: Base weight of a link of each kind (see the module docstring).
    kind_weights: dict[str, float] = field(default_factory=_default_weights)
    #: Hub guard: identifiers shared by more sellers than this are dropped.
    max_sellers: dict[str, int] = field(default_factory=_default_max_sellers)
    #: IDF-style down-weighting of identifiers shared by many sellers (0 = none).
    hub_decay: float = 1.0
    #: Two sellers are strongly tied when the summed weight of what they share reaches this:
    #: one hard identifier shared by at most 8 sellers (1 / (1 + ln 4) = 0.42), a device shared
    #: by two, or several soft kinds together (an e-mail plus an IP and an address). An agency
    #: account shared by a dozen shops (weight 0.34) alone ties nobody.
    strong_tie: float = 0.4
    #: Leiden objective inside each strongly tied component: "modularity" or "CPM".
    leiden_objective: str = "modularity"
    #: Resolution of the Leiden objective (CPM: minimum density of a community). Below 1 for
    #: modularity: ring members are tied to the controller's account more than to each other, so
    #: a ring is a sparse star and resolution 1 cuts it into pieces (measured, docs/network.md).
    leiden_resolution: float = 0.5
    #: Components at most this big are one ring without community detection.
    leiden_min_component: int = 6
    leiden_seed: int = 42
    #: Smallest ring: two shops of one owner are common and often legitimate, so a ring needs 3.
    min_ring_size: int = 3
    #: A group whose members all hold one business licence is a company running several shops
    #: openly; it is a ring only when a member is confirmed counterfeit (see ``rings.py``).
    declared_group_needs_confirmation: bool = True

    #: Address resolution: minimum rapidfuzz token_set_ratio (0..100) of two normalized
    #: addresses in the same city to be one place (their house numbers must also agree).
    address_match_threshold: float = 90.0

    #: Propagation: share of a neighbour's risk passed on, and the pseudo-weight that keeps one
    #: weak link from passing much (risk_i >= damping * sum_j w_ij r_j / (sum_j w_ij + prior)).
    propagation_damping: float = 0.85
    propagation_prior_weight: float = 1.0
    propagation_iterations: int = 20
    #: Scores pinned by confirmed outcomes.
    confirmed_counterfeit_score: float = 0.99
    confirmed_listing_seller_score: float = 0.95
    confirmed_genuine_score: float = 0.02

    #: Source risk: breadth saturates as 1 - exp(-expected risky receivers / this).
    source_breadth_scale: float = 1.5
    #: Pseudo-count of shipments at risk 0 that shrinks the mean risk of small sources.
    source_prior_shipments: float = 1.0

    #: Registry: a new group inherits an old id only if they share at least this share of the
    #: smaller group's members (overlap coefficient).
    min_id_overlap: float = 0.5

    def weight(self, kind: str) -> float:
        return self.kind_weights.get(kind, 0.0)
