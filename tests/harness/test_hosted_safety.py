"""A hosted vendor's sends reach real people: only the profile's ``recipients`` are ever addressed, and a run or a
contract check without them is refused (exit 2) before anything is sent or any results folder is made. The
runner checks a profile's ``mock_url`` like its ``base_url`` (its calls carry the mock's admin token)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.errors import EXIT_BAD_INPUT, ConfigError, TargetRefused
from harness.adapters.base import SendTemplate, SendText
from harness.adapters.registry import create_adapter, parse_profile
from harness.cli import main
from harness.commands.vendors import check_recipient
from harness.config.profiles import MOCK_TEST_RECIPIENT, VendorProfile
from harness.loadgen.customers import CustomerBook
from harness.loadgen.operations import Performer
from harness.run.runner import RunRequest, prepare
from harness.stack.launchers import LaunchContext, NoLaunch

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ROOT / "vendors"
HOST = "graph.vendor.example"  # never contacted: every test here stops at a refusal or stays in-process
OWN_PHONES = ["+4915100000011", "+4915100000012"]


def hosted_data(**changes: Any) -> dict[str, Any]:
    """A Cloud-API-shaped vendor that cannot be pointed at the mock (its sends go to WhatsApp, to real people)."""
    data = yaml.safe_load((VENDORS / "cloud-api-mock.yaml").read_text())
    data.update(name="acme-hosted", base_url=f"https://{HOST}", allowed_targets=[HOST], launch={"kind": "none"})
    data["capabilities"] = {"operations": data["capabilities"]["operations"], "can_point_at_mock": False}
    data["options"].pop("health_path")
    data["auth"].pop("dev_default")
    data.update(changes)
    return data


def hosted(**changes: Any) -> VendorProfile:
    return parse_profile(hosted_data(**changes), source="acme-hosted.yaml")


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "profiles" / f"{data['name']}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


# --- the profile field -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipients", "said"),
    [(["4915100000011 "], "E.164"), (["+12"], "E.164"), (["+4915100000011", "4915100000011"], "listed twice")],
)
def test_recipients_are_e164_numbers_each_once(recipients: list[str], said: str) -> None:
    with pytest.raises(ConfigError) as info:
        hosted(recipients=recipients)
    assert info.value.field == "recipients"
    assert said in str(info.value) and "Fix: list the E.164 numbers of test phones you own" in str(info.value)


def test_a_hosted_vendor_without_recipients_is_refused_naming_the_field_and_the_fix() -> None:
    profile = hosted()
    assert profile.sends_reach_real_people
    with pytest.raises(ConfigError) as info:
        profile.fixed_recipients(source="acme-hosted.yaml")
    error = info.value
    assert (error.exit_code, error.field, error.source) == (EXIT_BAD_INPUT, "recipients", "acme-hosted.yaml")
    assert "never invents recipients" in str(error) and "recipients: [" in str(error)


def test_a_hosted_vendor_on_loopback_still_reaches_real_people() -> None:
    profile = hosted(base_url="http://127.0.0.1:8080", allowed_targets=[])
    with pytest.raises(ConfigError, match="field 'recipients'"):
        profile.fixed_recipients()


def test_the_recipients_are_the_only_numbers_of_the_book_and_of_every_send() -> None:
    profile = hosted(recipients=OWN_PHONES)
    owned = set(profile.fixed_recipients())
    assert owned == {number.lstrip("+") for number in OWN_PHONES}
    book = CustomerBook(100_000, seed=3, recipients=profile.fixed_recipients())
    assert len(book) == len(OWN_PHONES)
    assert {book.customer(index).wa_id for index in range(50)} == owned
    performer = Performer(
        adapter=create_adapter(profile, environ={"WHATSAPP_ACCESS_TOKEN": "t-123456"}),
        customers=book,
        run_tag="abc123",
        worker_index=1,
        worker_name="worker-1",
        vendor=profile.name,
        scenario="throttle",
        options={"pair_share": 0.5},  # the throttle scenario aims half its sends at customer 0
        seed=3,
    )
    calls = [performer.build_call(operation)[0] for operation in ("send_text", "send_template") * 100]
    assert all(isinstance(call, SendText | SendTemplate) for call in calls)
    assert {call.to for call in calls if isinstance(call, SendText | SendTemplate)} == owned


def test_a_vendor_that_reaches_the_mock_keeps_its_generated_customers() -> None:
    for file in ("cloud-api-mock.yaml", "reference-steady.yaml", "twilio-facade.yaml"):
        profile = parse_profile(yaml.safe_load((VENDORS / file).read_text()), source=file)
        assert not profile.sends_reach_real_people and profile.fixed_recipients() == ()
    generated, again = CustomerBook(300, seed=4), CustomerBook(300, seed=4, recipients=())
    assert [generated.customer(i) for i in range(300)] == [again.customer(i) for i in range(300)]


# --- scrmbench run -----------------------------------------------------------------------------------------------


def test_a_run_against_a_hosted_vendor_without_recipients_exits_2_before_any_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, hosted_data())
    out = tmp_path / "results"
    argv = ["run", "--vendor", str(profile), "--scenario", "broadcast", "--quick", "--i-own-this-target"]
    code = main([*argv, "--out", str(out), "--no-progress"])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.replace("\n", " ")
    assert "field 'recipients'" in err and "Fix: list the E.164 numbers" in err
    assert not out.exists()


def test_prepare_refuses_a_hosted_vendor_without_recipients_and_accepts_one_with_them(tmp_path: Path) -> None:
    without = RunRequest(
        vendor=write(tmp_path, hosted_data()),
        scenario="broadcast",
        quick=True,
        results_root=tmp_path / "a",
        owner_confirmed=True,  # the target itself is allowed: only the missing recipients refuse it
    )
    with pytest.raises(ConfigError, match="field 'recipients'"):
        prepare(without)
    assert not (tmp_path / "a").exists()
    data = hosted_data(name="acme-hosted-owned", recipients=OWN_PHONES)
    owned = RunRequest(
        vendor=write(tmp_path, data),
        scenario="broadcast",
        quick=True,
        results_root=tmp_path / "b",
        owner_confirmed=True,
    )
    _plan, profile, run_dir, _manifest = prepare(owned)  # nothing is started or sent by prepare
    assert profile.recipients == OWN_PHONES and run_dir.parent == tmp_path / "b"


# --- scrmbench vendors check -------------------------------------------------------------------------------------


def test_vendors_check_has_no_invented_recipient_for_a_hosted_vendor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["vendors", "check", str(write(tmp_path, hosted_data())), "--i-own-this-target"])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.replace("\n", " ")
    assert "field 'recipients'" in err and "Fix:" in err


def test_vendors_check_sends_a_hosted_vendor_only_to_its_recipients() -> None:
    profile = hosted(recipients=OWN_PHONES)
    assert check_recipient(profile, None) == OWN_PHONES[0]
    assert check_recipient(profile, OWN_PHONES[1]) == OWN_PHONES[1]
    with pytest.raises(ConfigError) as info:
        check_recipient(profile, "+4915112345678", source="acme-hosted.yaml")
    assert info.value.field == "--to" and OWN_PHONES[1] in str(info.value)


def test_vendors_check_against_the_mock_defaults_to_a_fictional_number() -> None:
    profile = parse_profile(yaml.safe_load((VENDORS / "cloud-api-mock.yaml").read_text()), source="mock")
    assert check_recipient(profile, None) == MOCK_TEST_RECIPIENT
    assert check_recipient(profile, "+4915112345678") == "+4915112345678"  # only the mock receives it


# --- a plain Locust process (locust -f locustfile.py --vendor hosted.yaml) ---------------------------------------

SESSION_CHILD = """
import json, sys, types
from locust.env import Environment
from ground.errors import ConfigError
from harness.adapters.registry import parse_profile
from harness.loadgen.session import build_session
from harness.loadgen.spec import RunSpec
from scenarios.registry import get

profile = parse_profile(json.loads(sys.argv[1]), source="acme-hosted.yaml")
scenario = get("broadcast")
params = scenario.params({}, quick=True)
plan = scenario.build_plan(params)
spec = RunSpec(profile=profile, scenario="broadcast", params=params.model_dump(mode="json"), run_id="r",
               run_tag="abc123", results_dir=sys.argv[2], owner_confirmed=True)
parsed = types.SimpleNamespace(scenario="broadcast", vendor="", vendor_json="", quick=True, seed=0,
                               results_dir=sys.argv[2], run_id="r", run_tag="abc123", phase=0, mock_url="",
                               scenario_params="{}")
try:
    session = build_session(Environment(parsed_options=parsed), spec, plan, None)
except ConfigError as exc:
    print("refused", exc.field)
else:
    book = session.performer.customers
    print("book", json.dumps(sorted({book.customer(i).wa_id for i in range(len(book) * 3)})))
"""


def python_child(*args: str) -> subprocess.CompletedProcess[str]:
    """``python *args`` from the project root with the profile's token set (bounded: 120 s)."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "WHATSAPP_ACCESS_TOKEN": "t-123456", "PYTHONPATH": str(ROOT)},
        check=False,
    )


def session_child(profile: dict[str, Any], tmp_path: Path) -> str:
    # Locust patches the standard library with gevent when imported: its own process, never inside pytest.
    done = python_child("-c", SESSION_CHILD, json.dumps(profile), str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_load_process_refuses_a_hosted_vendor_without_recipients_and_uses_only_them_otherwise(
    tmp_path: Path,
) -> None:
    assert session_child(hosted_data(), tmp_path) == "refused recipients"
    owned = json.dumps(sorted(number.lstrip("+") for number in OWN_PHONES))
    assert session_child(hosted_data(recipients=OWN_PHONES), tmp_path) == f"book {owned}"


# --- mock_url (finding 3) ----------------------------------------------------------------------------------------


def remote_mock_data(**changes: Any) -> dict[str, Any]:
    """A vendor already running on loopback, configured with a mock that is not (launch kind none)."""
    data = yaml.safe_load((VENDORS / "cloud-api-mock.yaml").read_text())
    data.update(name="remote-mock", launch={"kind": "none"}, base_url="http://127.0.0.1:8900")
    data["capabilities"]["mock_url"] = "http://mock.vendor.example:8900"
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("allowed", "confirm", "said"),
    [([], True, "not in the profile's allowed_targets"), (["mock.vendor.example"], False, "not confirmed")],
)
def test_a_run_refuses_a_mock_url_that_is_not_loopback_before_any_folder(
    allowed: list[str], confirm: bool, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, remote_mock_data(allowed_targets=allowed))
    out = tmp_path / "results"
    argv = ["run", "--vendor", str(profile), "--scenario", "peak", "--quick", "--out", str(out), "--no-progress"]
    code = main([*argv, *(["--i-own-this-target"] if confirm else [])])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.replace("\n", " ")
    assert "field 'capabilities.mock_url'" in err and said in err
    assert not out.exists()


def test_no_launch_refuses_a_mock_url_that_is_not_loopback(tmp_path: Path) -> None:
    from contextlib import ExitStack

    profile = parse_profile(remote_mock_data(), source="remote-mock.yaml")
    with ExitStack() as stack:
        context = LaunchContext(workdir=tmp_path, stack=stack, mock_config={}, owner_confirmed=True)
        with pytest.raises(TargetRefused, match=r"capabilities\.mock_url"):
            NoLaunch().start(profile, context)


def test_the_locust_probe_sends_a_hosted_vendor_nothing_without_recipients(tmp_path: Path) -> None:
    profile = write(tmp_path, hosted_data(base_url="http://127.0.0.1:9", allowed_targets=[]))
    done = python_child("-m", "harness.adapters.locust_probe", str(profile), str(tmp_path / "run"), "--requests", "1")
    assert done.returncode == EXIT_BAD_INPUT, done.stderr[-2000:]
    assert "field 'recipients'" in done.stderr and not (tmp_path / "run").exists()
