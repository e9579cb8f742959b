"""Moved to ``harness.run.resources`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.resources as _moved

warnings.warn(
    "harness.run_resources moved to harness.run.resources; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
