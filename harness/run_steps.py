"""Moved to ``harness.run.steps`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.steps as _moved

warnings.warn(
    "harness.run_steps moved to harness.run.steps; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
