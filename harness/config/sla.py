"""The names an SLA criterion's scope may use that analysis cannot know: the scenarios and the faults.

Analysis sits below both (docs/contracts.md, Floors), so it checks ``scope.operation`` itself (``plan.operations``)
and takes these from the harness, which passes them wherever it loads an SLA: ``scrmbench run`` (before the
results folder exists), ``score``, ``compare`` and ``report``.
"""

from __future__ import annotations

from analysis.sla import ScopeNames
from harness.faults import REGISTRY
from scenarios.registry import names


def scope_names() -> ScopeNames:
    """Every registered scenario and fault (a fault's name as it is recorded in ``faults.jsonl``)."""
    return ScopeNames(scenarios=tuple(names()), faults=tuple(REGISTRY.names()))
