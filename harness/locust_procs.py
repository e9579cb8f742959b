"""Moved to ``harness.run.locust_phase`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.locust_phase as _moved

warnings.warn(
    "harness.locust_procs moved to harness.run.locust_phase; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
