"""The chaos proxy: an asyncio TCP proxy with Toxiproxy-style toxics, its control API and a Python client."""

from __future__ import annotations

from harness.faults.proxy.client import ProxyClient
from harness.faults.proxy.control import ProxyControl, ProxyServer
from harness.faults.proxy.server import ChaosProxy, ProxyCollection
from harness.faults.proxy.toxics import TOXICS, ToxicSpec

__all__ = ["TOXICS", "ChaosProxy", "ProxyClient", "ProxyCollection", "ProxyControl", "ProxyServer", "ToxicSpec"]
