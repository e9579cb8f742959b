"""Moved to ``harness.stack.local`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.stack.local as _moved

warnings.warn(
    "harness.local_stack moved to harness.stack.local; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
