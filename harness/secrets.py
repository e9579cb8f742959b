"""Moved to ``ground.secrets`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.secrets as _moved

warnings.warn(
    "harness.secrets moved to ground.secrets; the old path goes in the next release", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
