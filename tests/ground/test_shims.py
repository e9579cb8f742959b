"""Every module that moved to the ground floor still imports from its old path for one release, with a
DeprecationWarning, and is the very same module (so monkeypatching either name patches both)."""

from __future__ import annotations

import pytest

from tests.fixtures.shims import assert_moved

MOVED = {
    "harness.clock": "ground.clock",
    "harness.errors": "ground.errors",
    "harness.net": "ground.net",
    "harness.records": "ground.records",
    "harness.secrets": "ground.secrets",
    "harness.orphans": "ground.orphans",
    "harness.config.loading": "ground.loading",
    "harness.config.durations": "ground.durations",
    "mocks.whatsapp.correlation": "ground.correlation",
    "harness.services": "ground.services",
}


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_the_old_path_is_the_new_module_with_a_warning(old: str, new: str) -> None:
    assert_moved(old, new)
