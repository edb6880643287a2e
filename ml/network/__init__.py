"""Network tracing: counterfeit rings of sellers, their upstream sources, propagated risk.

The orchestration layer calls :func:`trace_network` (writes ``main.rings``, ``main.ring_links``,
``main.sources``, ``main.seller_scores`` and the id registries in one transaction) and
:func:`ring_svg` (a picture of one ring). See ``ml/network/config.py`` for the choices.
"""

from ml.network.config import NetworkConfig
from ml.network.draw import ring_svg
from ml.network.trace import NetworkSummary, trace_network

__all__ = ["NetworkConfig", "NetworkSummary", "ring_svg", "trace_network"]
