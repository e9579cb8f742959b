"""Moved to ``ground.correlation`` (the ground floor, docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import ground.correlation as _moved

warnings.warn(
    "mocks.whatsapp.correlation moved to ground.correlation; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
