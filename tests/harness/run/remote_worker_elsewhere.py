"""A locustfile for a simulated remote worker: the real scrmbench locustfile, but its records go elsewhere.

On another machine a worker writes its shards to that machine's copy of the results path; here the listener
below (registered before scrmbench's own, so it runs first) points the worker at ``SCRMBENCH_TEST_WORKER_RESULTS``
once the master's run spec has arrived with the spawn message.
"""

from __future__ import annotations

import json
import os
from typing import Any

from locust import events

RESULTS = "SCRMBENCH_TEST_WORKER_RESULTS"


@events.test_start.add_listener
def _results_elsewhere(environment: Any, **_: Any) -> None:
    spec = json.loads(environment.parsed_options.run_spec_json)
    environment.parsed_options.run_spec_json = json.dumps({**spec, "results_dir": os.environ[RESULTS]})


from harness.loadgen import hooks  # noqa: E402, F401  (after the listener above: it must run first)
from harness.loadgen.locust_engine import ClosedModelUser, OpenModelUser, PlanShape  # noqa: E402

__all__ = ["ClosedModelUser", "OpenModelUser", "PlanShape"]
