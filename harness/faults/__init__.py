"""Fault injection: faults as plug-ins, schedules, a runner that always clears, and the chaos proxy.

Importing this package registers every built-in fault (one module each); ``REGISTRY.names()`` lists them.
See docs/adding-a-fault.md for writing a new one.
"""

from __future__ import annotations

from harness.faults import (  # noqa: F401  (each module registers its faults)
    burst,
    container,
    process,
    proxy_faults,
    upstream,
)
from harness.faults.base import REGISTRY, Fault, FaultParams, FaultTargets, UpstreamTarget, register_fault
from harness.faults.proxy.control import ProxyTarget
from harness.faults.runner import BackgroundFaults, FaultRunner
from harness.faults.schedule import FaultSchedule, at, every, load_schedule, plan, randomly
from harness.faults.timeline import FaultTimeline, read_timeline

__all__ = [
    "REGISTRY",
    "BackgroundFaults",
    "Fault",
    "FaultParams",
    "FaultRunner",
    "FaultSchedule",
    "FaultTargets",
    "FaultTimeline",
    "ProxyTarget",
    "UpstreamTarget",
    "at",
    "every",
    "load_schedule",
    "plan",
    "randomly",
    "read_timeline",
    "register_fault",
]
