"""Moved to ``ground.net`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.net as _moved

warnings.warn(
    "harness.net moved to ground.net; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
