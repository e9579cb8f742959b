"""Moved to ``ground.loading`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.loading as _moved

warnings.warn(
    "harness.config.loading moved to ground.loading; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
