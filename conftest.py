"""Fixtures shared by all tests. Each concern keeps its fixtures in a module under tests/fixtures/."""

import os
import tempfile

# Tests never read or write this machine's own calibration (~/.cache/scrmbench): each session starts uncalibrated,
# so a run's capacity check is "uncalibrated" unless a test writes a calibration into this folder itself.
# (tests/fixtures/common.py: the autouse clean_environ removes SCRMBENCH_* and then puts this one back.)
os.environ["SCRMBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="scrmbench-test-cache-")

pytest_plugins = [
    "tests.fixtures.vendors",
    "tests.fixtures.runs",
    "tests.fixtures.scorecard",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.mock_server",
    "tests.fixtures.common",
    "tests.fixtures.facades",
    "tests.fixtures.faults",
    "tests.fixtures.proxy",
    "tests.fixtures.docker",
]
