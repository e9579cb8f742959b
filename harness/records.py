"""Moved to ``ground.records`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.records as _moved

warnings.warn(
    "harness.records moved to ground.records; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
