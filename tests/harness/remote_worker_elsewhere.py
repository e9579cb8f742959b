"""A locustfile for a simulated remote worker: the real scrmbench locustfile, but its records go elsewhere.

On another machine a worker writes its shards to that machine's copy of the results path; here the listener
below (registered before scrmbench's own, so it runs first) points the worker at ``SCRMBENCH_TEST_WORKER_RESULTS``
once the master's options have arrived.
"""

from __future__ import annotations

import os
from typing import Any

from locust import events


@events.test_start.add_listener
def _results_elsewhere(environment: Any, **_: Any) -> None:
    environment.parsed_options.results_dir = os.environ["SCRMBENCH_TEST_WORKER_RESULTS"]


from harness.loadgen import hooks  # noqa: E402, F401  (after the listener above: it must run first)
from harness.loadgen.locust_engine import ClosedModelUser, OpenModelUser, PlanShape  # noqa: E402

__all__ = ["ClosedModelUser", "OpenModelUser", "PlanShape"]
