"""Moved to ``harness.stack.image`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.stack.image as _moved

warnings.warn(
    "harness.docker_image moved to harness.stack.image; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
