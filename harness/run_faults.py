"""Moved to ``harness.run.faults`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.faults as _moved

warnings.warn(
    "harness.run_faults moved to harness.run.faults; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
