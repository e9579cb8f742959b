"""Moved to ``harness.stack.failover`` (docs/contracts.md); this old path works for one more release."""

import sys
import warnings

import harness.stack.failover as _moved

warnings.warn(
    "harness.run_failover moved to harness.stack.failover; the old path goes in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
