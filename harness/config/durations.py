"""Moved to ``ground.durations`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.durations as _moved

warnings.warn(
    "harness.config.durations moved to ground.durations; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
