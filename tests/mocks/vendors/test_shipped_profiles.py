"""Every reference vendor profile ships as a vendors/reference-*.yaml that loads and launches that profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.adapters.registry import load_profile
from mocks.vendors.profiles import PROFILES, is_ha_profile

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
SHIPPED = sorted(VENDORS.glob("reference-*.yaml"))


def test_the_shipped_reference_files_are_found():
    assert len(SHIPPED) >= len(PROFILES)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_each_shipped_reference_file_loads_and_launches_a_known_profile_the_right_way(path):
    profile = load_profile(path)
    assert profile.name == path.stem and profile.adapter == "reference"
    assert profile.launch.profile in PROFILES
    # An HA profile needs the pair (primary, standby, front); a single-instance profile one process, or one
    # container (launch.kind container, for container failover).
    single = ("reference", "container")
    assert profile.launch.kind in (("ha-pair",) if is_ha_profile(profile.launch.profile) else single)
    if profile.launch.kind == "ha-pair":
        assert profile.failover is not None, "an HA pair is there to be failed over"


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_reference_profile_has_a_shipped_file(name):
    launched = {load_profile(path).launch.profile for path in SHIPPED}
    assert name in launched, f"no vendors/reference-*.yaml launches profile {name!r}: add one"
