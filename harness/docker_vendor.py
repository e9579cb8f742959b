"""Moved to ``harness.stack.container`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.stack.container as _moved

warnings.warn(
    "harness.docker_vendor moved to harness.stack.container; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
