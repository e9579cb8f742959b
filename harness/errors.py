"""Moved to ``ground.errors`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.errors as _moved

warnings.warn(
    "harness.errors moved to ground.errors; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
