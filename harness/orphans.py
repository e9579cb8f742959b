"""Moved to ``ground.orphans`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.orphans as _moved

warnings.warn(
    "harness.orphans moved to ground.orphans; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
