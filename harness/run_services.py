"""Moved to ``harness.stack.services`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.stack.services as _moved

warnings.warn(
    "harness.run_services moved to harness.stack.services; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
