"""Moved to ``ground.services`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.services as _moved

warnings.warn(
    "harness.services moved to ground.services; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
