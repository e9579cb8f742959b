"""Moved to ``plan.arrivals`` (the plan floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import plan.arrivals as _moved

warnings.warn(
    "harness.loadgen.schedule moved to plan.arrivals; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
