"""Moved to ``plan.rates`` (the plan floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import plan.rates as _moved

warnings.warn(
    "harness.loadgen.rates moved to plan.rates; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
