"""Moved to ``harness.results`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.results as _moved

warnings.warn(
    "harness.run_folder moved to harness.results; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
