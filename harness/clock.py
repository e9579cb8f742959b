"""Moved to ``ground.clock`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.clock as _moved

warnings.warn(
    "harness.clock moved to ground.clock; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
