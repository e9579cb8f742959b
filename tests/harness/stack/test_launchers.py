"""One launcher per ``launch.kind``, registered once; the fault targets each kind plans for."""

from __future__ import annotations

import typing
from contextlib import ExitStack
from pathlib import Path

import pytest

from ground.errors import ConfigError
from harness.adapters.registry import load_profile
from harness.config.profiles import LaunchConfig, VendorProfile
from harness.stack.launchers import LAUNCHERS, LaunchContext, launcher_for
from harness.stack.local import local_stack
from harness.stack.mock import DEFAULT_PHONE_NUMBER_ID, facade_numbers, mock_numbers

KINDS = typing.get_args(LaunchConfig.model_fields["kind"].annotation)


STEADY = Path(__file__).resolve().parents[3] / "vendors" / "reference-steady.yaml"


def _profile(kind: str) -> VendorProfile:
    launch: dict[str, object] = {"kind": kind}
    if kind in ("reference", "ha-pair", "container"):
        launch["profile"] = "steady"
    if kind == "facade":
        launch["dialect"] = "twilio"
    base = load_profile(STEADY)
    capabilities = base.capabilities.model_copy(update={"mock_url": None})
    return base.model_copy(update={"launch": LaunchConfig.model_validate(launch), "capabilities": capabilities})


def test_every_launch_kind_of_the_profile_model_has_one_launcher() -> None:
    assert sorted(LAUNCHERS.names()) == sorted(KINDS)
    for kind in KINDS:
        assert LAUNCHERS.get(kind).kind == kind


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        LAUNCHERS.get("kubernetes")
    assert "ha-pair" in str(caught.value.fix)


@pytest.mark.parametrize(
    ("kind", "processes", "containers"),
    [
        ("none", [], []),
        ("reference", ["mock", "primary"], []),
        ("ha-pair", ["mock", "primary", "standby", "front"], []),
        ("container", ["mock"], ["primary"]),
        ("facade", ["mock", "primary"], []),
        ("mock", ["mock"], []),
    ],
)
def test_planned_targets_per_kind(kind: str, processes: list[str], containers: list[str]) -> None:
    targets = launcher_for(_profile(kind)).planned_targets(_profile(kind))
    assert sorted(targets.processes) == sorted(processes)
    assert sorted(targets.containers) == containers
    assert list(targets.upstream) == ([] if kind == "none" else ["mock"])
    assert list(launcher_for(_profile(kind)).planned_targets(_profile(kind), proxy=True).proxies) == ["primary"]


def test_only_the_loopback_reference_kinds_skip_the_written_target_check() -> None:
    flagged = sorted(kind for kind in KINDS if LAUNCHERS.get(kind).loopback_reference)
    assert flagged == ["ha-pair", "reference"]
    assert [kind for kind in KINDS if LAUNCHERS.get(kind).owns_container] == ["container"]


def test_none_starts_nothing_and_checks_the_target(tmp_path: Path) -> None:
    profile = _profile("none")
    with ExitStack() as stack:
        launched = launcher_for(profile).start(profile, LaunchContext(tmp_path, stack, {}))
    assert launched.profile is profile
    assert launched.processes == {}
    assert not any(tmp_path.iterdir())


def test_local_stack_refuses_a_profile_that_starts_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not say what to start"), local_stack(_profile("none"), tmp_path):
        pass


@pytest.mark.parametrize("name", ["twilio-facade.yaml", "reference-many-numbers.yaml"])
def test_a_facade_knows_every_profile_number_by_an_id_the_run_s_mock_has(name: str) -> None:
    profile = load_profile(STEADY.parent / name)
    numbers = facade_numbers(profile)
    mock_ids = {n["id"] for n in mock_numbers(profile).get("phone_numbers", [])} or {DEFAULT_PHONE_NUMBER_ID}
    assert set(numbers) == {n.digits for n in profile.business_numbers()}
    assert set(numbers.values()) <= mock_ids
    assert len(set(numbers.values())) == len(profile.business_numbers())  # no two numbers share a sender
