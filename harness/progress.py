"""Moved to ``harness.run.progress`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.progress as _moved

warnings.warn(
    "harness.progress moved to harness.run.progress; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
