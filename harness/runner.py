"""Moved to ``harness.run.runner`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.runner as _moved

warnings.warn(
    "harness.runner moved to harness.run.runner; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
