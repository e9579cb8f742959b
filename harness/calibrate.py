"""Moved to ``harness.run.calibrate`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.calibrate as _moved

warnings.warn(
    "harness.calibrate moved to harness.run.calibrate; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
