"""Moved to ``harness.run.health`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.health as _moved

warnings.warn(
    "harness.run_health moved to harness.run.health; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
