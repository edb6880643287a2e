"""Network tracing: counterfeit rings of sellers, their upstream sources, propagated risk.

The orchestration layer calls :func:`trace_network` (writes ``main.rings``, ``main.ring_links``,
``main.sources``, ``main.seller_scores`` and the id registries in one transaction) and
:func:`ring_svg` (a picture of one ring). See ``ml/network/config.py`` for the choices.

The names are loaded on first use (PEP 562): the tracer pulls in igraph, leidenalg, rapidfuzz
and scipy, which a process that only needs ``ml.network.config`` (the Dagster definitions)
should not pay for.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml.network.config import NetworkConfig
    from ml.network.draw import ring_svg
    from ml.network.trace import NetworkSummary, trace_network

_MODULES = {
    "NetworkConfig": "ml.network.config",
    "ring_svg": "ml.network.draw",
    "NetworkSummary": "ml.network.trace",
    "trace_network": "ml.network.trace",
}

__all__ = ["NetworkConfig", "NetworkSummary", "ring_svg", "trace_network"]


def __getattr__(name: str) -> object:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULES[name]), name)
