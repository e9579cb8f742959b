"""A new user's first hour fails early and says why: a broken SLA file is refused before anything starts, a
profile whose vendor is not running says so once with the fix, and every typed duration takes 30s, 5m, 1h30m."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground import errors
from ground.durations import ACCEPTED, HumanDurations, duration_parser, parse_duration
from ground.errors import EXIT_BAD_INPUT, EXIT_UNREACHABLE, ConfigError, ScenarioError
from ground.net import free_port
from harness.adapters.registry import load_profile
from harness.cli import main
from harness.faults.base import REGISTRY
from harness.faults.schedule import FaultSchedule, plan
from harness.run import runner
from harness.run.runner import RunRequest, prepare
from scenarios.registry import get as get_scenario

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ROOT / "vendors"
STEADY = str(VENDORS / "reference-steady.yaml")


# --- 1. every input is validated before the first process starts ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: mine\ncriteria:\n  - metric: no_such_metric\n    target: 1\n", "criteria.0"),
        ("name: mine\ncriteria: []\n", "criteria"),
        ("name: [unclosed\n", "not valid YAML"),
        ("name: mine\ncriteria:\n  - metric: error_rate\n    target: lots\n", "target"),
    ],
)
def test_a_broken_sla_file_exits_2_before_anything_starts(
    tmp_path: Path, nothing_starts: None, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    sla = tmp_path / "my.yaml"
    sla.write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--quick", "--sla", str(sla), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == EXIT_BAD_INPUT
    err = " ".join(capsys.readouterr().err.split())
    assert str(sla) in err and expected in err and "Traceback" not in err
    assert not out.exists()  # no results folder


@pytest.mark.parametrize("value", ["no/such/sla.yaml", "gold"])
def test_an_unknown_sla_preset_or_missing_file_exits_2_before_anything_starts(
    tmp_path: Path, nothing_starts: None, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    out = tmp_path / "results"
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--quick", "--sla", value, "--out", str(out)]
    assert main([*argv, "--no-progress"]) == EXIT_BAD_INPUT
    err = " ".join(capsys.readouterr().err.split())
    assert "--sla" in err and value in err and "no such SLA preset or file" in err
    assert not out.exists()


def test_a_valid_sla_passes_the_early_check(tmp_path: Path) -> None:
    request = RunRequest(vendor=Path(STEADY), scenario="peak", quick=True, results_root=tmp_path, sla="standard")
    _, _, run_dir, manifest = prepare(request)
    assert run_dir.exists() and manifest.sla == "standard"


# --- 2. vendors check when nothing listens at base_url ------------------------------------------------------------


def _profile(tmp_path: Path, base_url: str, launch: dict[str, Any] | None) -> Path:
    data = yaml.safe_load((VENDORS / "generic-http-example.yaml").read_text())
    data["base_url"] = base_url
    if launch is None:
        data.pop("launch", None)
    else:
        data["launch"] = launch
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("launch", "fix"),
    [
        ({"kind": "mock"}, "add --launch to have scrmbench start it (the profile's launch.kind is 'mock')"),
        (None, "start the vendor so it answers there, or correct base_url"),
    ],
)
def test_vendors_check_says_once_that_nothing_listens_and_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], launch: dict[str, Any] | None, fix: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # free a moment ago: nothing listens
    profile = _profile(tmp_path, url, launch)
    assert main(["vendors", "check", str(profile)]) == EXIT_UNREACHABLE
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert f"nothing listens at {url} (the profile's base_url)" in err
    assert fix in err and str(profile) in err and "Traceback" not in err
    assert err.count("nothing listens") == 1
    assert "connect error" not in captured.out + captured.err  # no table of refused connections


def test_a_vendor_that_listens_is_checked_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as server:  # accepts the connection, then answers nothing useful: a failed check, not 6
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        profile = _profile(tmp_path, url, None)
        data = yaml.safe_load(profile.read_text())
        data["timeouts"] = {"default": "500ms"}
        profile.write_text(yaml.safe_dump(data))
        assert main(["vendors", "check", str(profile)]) == 1
    assert "nothing listens" not in capsys.readouterr().err


def test_exit_codes_are_distinct() -> None:
    codes = {name: value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert len(set(codes.values())) == len(codes), codes
    assert errors.VendorUnreachable("x").exit_code == EXIT_UNREACHABLE == 6
    assert issubclass(errors.VendorUnreachable, ConfigError)


# --- 3. one duration parser for everything typed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 30.0),
        ("30s", 30.0),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("5m", 300.0),
        ("2min", 120.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h 30m 15s", 5415.0),
        (" 90 s ", 90.0),
        (12, 12.0),
        (0.25, 0.25),
    ],
)
def test_human_durations_are_accepted(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["soon", "30x", "-5s", "", "30m1h", "1h1h", "1.5.3s", "5 minutes", "1h30", True, None])
def test_bad_durations_are_refused_with_the_accepted_forms(bad: Any) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(bad)
    assert ACCEPTED in str(info.value)


def test_a_bare_number_is_in_the_fields_own_unit() -> None:
    assert parse_duration("2s", unit="ms") == 2000.0
    assert parse_duration("500", unit="ms") == 500.0

    class Knobs(HumanDurations):
        wait_s: float = 1.0
        p95_ms: float = 100.0
        label: str = ""

    knobs = Knobs.model_validate({"wait_s": "1m", "p95_ms": "1.5s", "label": "5m"})
    assert (knobs.wait_s, knobs.p95_ms, knobs.label) == (60.0, 1500.0, "5m")


def test_cli_duration_and_duration_params_reach_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[RunRequest] = []

    def execute(request: RunRequest) -> Any:
        seen.append(request)
        raise ScenarioError("stopped by the test")

    monkeypatch.setattr(runner, "execute", execute)
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--duration", "1h30m"]
    assert main([*argv, "--param", "drain_s=1m", "--param", "reply_p95_ms=2s", "--no-progress"]) == EXIT_BAD_INPUT
    params = get_scenario("peak").params(seen[0].overrides)
    assert (params.duration_s, params.drain_s, params.reply_p95_ms) == (5400.0, 60.0, 2000.0)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["run", "--vendor", STEADY, "--scenario", "peak", "--duration", "soon"], ["--duration", "soon", "1h30m"]),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--param", "drain_s=soon"], ["drain_s", "soon", "1h30m"]),
        (["score", "results/x", "--recovery-window", "0.5s"], ["--recovery-window", "at least 1 s", "0.5s"]),
        (["score", "results/x", "--recovery-confirm", "later"], ["--recovery-confirm", "later", "1h30m"]),
    ],
)
def test_a_bad_duration_anywhere_exits_2_with_the_accepted_forms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needles: list[str]
) -> None:
    if argv[0] == "run":
        argv = [*argv, "--out", str(tmp_path / "results"), "--no-progress"]
    assert main(argv) == EXIT_BAD_INPUT
    err = " ".join(capsys.readouterr().err.split())
    assert all(needle in err for needle in needles), err
    assert "Traceback" not in err and not (tmp_path / "results").exists()


def test_score_takes_human_recovery_windows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parse = duration_parser(minimum=1)
    assert (parse("10s"), parse("1m"), parse("90")) == (10.0, 60.0, 90.0)
    main(["score", str(tmp_path / "nope"), "--recovery-window", "10s", "--recovery-confirm", "1m"])
    assert "--recovery" not in capsys.readouterr().err  # parsed; it fails later, on the missing folder


def test_fault_schedules_and_fault_parameters_take_the_same_durations() -> None:
    schedule = FaultSchedule.model_validate(
        {"faults": [{"fault": "process-restart", "target": "vendor", "at": "1h30m", "duration": "1.5s",
                     "params": {"grace_s": "2s"}}]}
    )  # fmt: skip
    [occurrence] = plan(schedule, 6 * 3600, registry=REGISTRY)
    assert (occurrence.at_s, occurrence.duration_s) == (5400.0, 1.5)
    assert occurrence.params.grace_s == 2.0  # type: ignore[attr-defined]


def test_profile_timeouts_take_durations(tmp_path: Path) -> None:
    data = yaml.safe_load((VENDORS / "generic-http-example.yaml").read_text())
    data["timeouts"] = {"default": "30s", "upload_media": "1m", "health": "500ms"}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    timeouts = load_profile(path).timeouts
    assert (timeouts.default, timeouts.upload_media, timeouts.health) == (30.0, 60.0, 0.5)
    data["timeouts"] = {"default": "soon"}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"timeouts\.default") as info:
        load_profile(path)
    assert ACCEPTED in str(info.value)
