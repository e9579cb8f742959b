"""Moved to ``harness.run.shards`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.run.shards as _moved

warnings.warn(
    "harness.run_shards moved to harness.run.shards; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
