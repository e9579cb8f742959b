"""The runner, its steps and the launching of services moved into ``harness.run`` and ``harness.stack``; the old
paths import for one release, with a DeprecationWarning, and are the very same modules (so monkeypatching either
name patches both)."""

from __future__ import annotations

import pytest

from tests.fixtures.shims import assert_moved

MOVED = {
    "harness.runner": "harness.run.runner",
    "harness.run_steps": "harness.run.steps",
    "harness.run_faults": "harness.run.faults",
    "harness.run_health": "harness.run.health",
    "harness.run_resources": "harness.run.resources",
    "harness.run_shards": "harness.run.shards",
    "harness.locust_procs": "harness.run.locust_phase",
    "harness.progress": "harness.run.progress",
    "harness.calibrate": "harness.run.calibrate",
    "harness.run_folder": "harness.results",
    "harness.run_services": "harness.stack.services",
    "harness.run_failover": "harness.stack.failover",
    "harness.local_stack": "harness.stack.local",
    "harness.docker_vendor": "harness.stack.container",
    "harness.docker_image": "harness.stack.image",
}


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_the_old_path_is_the_new_module_with_a_warning(old: str, new: str) -> None:
    assert_moved(old, new)


def test_the_calibration_keeps_its_names_where_its_callers_read_them() -> None:
    from harness.run import calibrate, capacity

    assert calibrate.load_cached is capacity.load_cached
    assert calibrate.Calibration is capacity.Calibration
