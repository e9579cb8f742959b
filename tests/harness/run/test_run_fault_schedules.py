"""``scrmbench run --faults FILE.yaml``: a YAML schedule played against the run's own targets.

A tiny real run (reference vendor, mock, chaos proxy put in front because the schedule has a proxy toxic)
checks the timeline, the manifest and a correctness relation in the records: requests sent while the latency
toxic is in place take about the toxic's latency longer than the others. Bad files are refused with their
message before any results folder exists.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from ground.errors import EXIT_BAD_INPUT, ConfigError
from harness.cli import main
from harness.faults import REGISTRY
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run.faults import load_run_schedule
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request

ROOT = Path(__file__).resolve().parents[3]
STEADY = ROOT / "vendors" / "reference-steady.yaml"
TOXIC_MS = 400.0


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_schedule_is_valid_and_asks_for_the_proxy() -> None:
    schedule = load_run_schedule(ROOT / "docs" / "examples" / "faults.yaml", seed=3)
    assert schedule.needs_proxy
    assert {entry.fault for entry in schedule.schedule.faults} <= set(REGISTRY.names())


def test_random_windows_follow_the_runs_seed_unless_the_file_sets_one(tmp_path: Path) -> None:
    text = "faults:\n  - fault: upstream-outage\n    window: [10s, 100s]\n    count: 3\n    duration: 1s\n"
    unseeded = write(tmp_path / "a.yaml", text)

    def times(path: Path, seed: int) -> list[float]:
        return [o.at_s for o in load_run_schedule(path, seed=seed).occurrences(200)]

    assert times(unseeded, 1) == times(unseeded, 1)
    assert times(unseeded, 1) != times(unseeded, 2)
    seeded = write(tmp_path / "b.yaml", "seed: 9\n" + text)
    assert times(seeded, 1) == times(seeded, 2)  # the file's own seed wins
    assert load_run_schedule(seeded, seed=1).schedule.seed == 9
    assert not load_run_schedule(unseeded, seed=1).needs_proxy


def test_an_unknown_fault_is_refused_with_the_registered_names(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "faults:\n  - fault: meteor-strike\n    at: 5s\n")
    with pytest.raises(ConfigError) as caught:
        load_run_schedule(path, seed=0)
    message = str(caught.value)
    assert str(path) in message and "faults.0.fault" in message and "meteor-strike" in message
    assert "proxy-latency" in message and "upstream-errors" in message  # the registered names, listed


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        ("faults:\n  - fault: upstream-errors\n    at: soon\n", "faults.0.at", "30s, 250ms"),
        ("faults:\n  - fault: upstream-errors\n    at: 1s\n    every: 5s\n", "faults.0", "exactly one of"),
        ("faults:\n  - fault: upstream-errors\n    at: 1s\n    params: {cod: 1}\n", "faults.0.params.cod", "cod"),
        ("faults:\n  - fault: proxy-latency\n    at: 1s\n    colour: red\n", "faults.0.colour", "colour"),
    ],
)
def test_a_bad_field_names_file_field_and_value(tmp_path: Path, text: str, field: str, says: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_run_schedule(path, seed=0)
    message = str(caught.value)
    assert str(path) in message and field in message and says in message, message


def test_the_cli_refuses_a_bad_schedule_with_exit_2_before_any_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "bad.yaml", "faults:\n  - fault: meteor-strike\n    at: 5s\n")
    out = tmp_path / "results"
    argv = ["run", "--vendor", str(STEADY), "--scenario", "broadcast", "--faults", str(path), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == EXIT_BAD_INPUT
    assert "meteor-strike" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert main([*argv[:-2], "--faults", str(tmp_path / "missing.yaml"), "--no-progress"]) == EXIT_BAD_INPUT


def test_a_target_the_run_will_not_have_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.run.runner as runner

    def must_not_start(*args: object, **kwargs: object) -> None:
        raise AssertionError("services started for a schedule that names a target the run will not have")

    monkeypatch.setattr(runner, "start_services", must_not_start)
    path = write(tmp_path / "typo.yaml", "faults:\n  - fault: process-kill\n    at: 5s\n    target: primray\n")
    out = tmp_path / "results"
    argv = ["run", "--vendor", str(STEADY), "--scenario", "broadcast", "--faults", str(path), "--out", str(out)]
    assert main([*argv, "--no-progress"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert str(path) in err and "faults.0.target" in err and "'primray'" in err and "mock, primary" in err, err
    assert not out.exists() or not any(out.iterdir())
    # a proxy toxic needs no proxy in the profile: the schedule itself puts one in front of the vendor
    fine = write(tmp_path / "ok.yaml", "faults:\n  - fault: proxy-latency\n    at: 1s\n    params: {latency: 5}\n")
    with pytest.raises(AssertionError, match="services started"):
        execute(quiet_run_request(out, "broadcast", faults=fine))


@pytest.mark.parametrize(
    ("profile", "processes", "upstream"),
    [
        ("reference-steady.yaml", {"mock", "primary"}, {"mock"}),
        ("reference-ha-pair.yaml", {"mock", "primary", "standby", "front"}, {"mock"}),
        ("twilio-facade.yaml", {"mock", "primary"}, {"mock"}),
        ("cloud-api-mock.yaml", {"mock"}, {"mock"}),
    ],
)
def test_planned_targets_name_what_the_run_starts(profile: str, processes: set[str], upstream: set[str]) -> None:
    from harness.adapters.registry import load_profile
    from harness.stack.services import planned_targets

    targets = planned_targets(load_profile(ROOT / "vendors" / profile))
    assert (set(targets.processes), set(targets.upstream)) == (processes, upstream)
    assert set(planned_targets(load_profile(ROOT / "vendors" / profile), proxy=True).proxies) == {"primary"}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_yaml_schedule_injects_upstream_errors_and_a_proxy_latency_toxic_on_the_load(tmp_path: Path) -> None:
    entries = [
        {"fault": "upstream-errors", "target": "mock", "every": "4s", "start": "1s", "duration": "1s",
         "params": {"code": 131000, "rate": 1.0}},
        {"fault": "proxy-latency", "target": "primary", "at": "6.5s", "duration": "2.5s",
         "params": {"latency": TOXIC_MS}},
    ]  # fmt: skip
    schedule = write(tmp_path / "faults.yaml", yaml.safe_dump({"faults": entries}))
    request = quiet_run_request(
        tmp_path / "results",
        "broadcast",
        overrides={"recipients": 84, "rate": 6, "live_share": 0.0, "drain_s": 1, "pool_size": 20},
        seed=11,
        faults=schedule,
    )
    result = execute(request)
    run_dir = result.run_dir
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["complete"], manifest["notes"]
    recorded = manifest["fault_schedule"]
    assert recorded["content"] == schedule.read_text() and recorded["file"] == str(schedule)
    planned = [(p["fault"], p["at_s"]) for p in recorded["planned"]]
    upstream_at = [at for fault, at in planned if fault == "upstream-errors"]
    assert upstream_at[:3] == [1.0, 5.0, 9.0] and ("proxy-latency", 6.5) in planned

    events = [e for e in read_timeline(run_dir / "faults.jsonl") if e.action in ("inject", "clear")]
    assert all(e.ok for e in events), [e for e in events if not e.ok]
    upstream = [(e.action, e.target) for e in events if e.fault == "upstream-errors"]
    assert upstream == [("inject", "upstream:mock"), ("clear", "upstream:mock")] * len(upstream_at)
    toxic = [e for e in events if e.fault == "proxy-latency"]
    assert [(e.action, e.target) for e in toxic] == [("inject", "proxy:primary"), ("clear", "proxy:primary")]
    windows = [(a.at, b.at) for a, b in zip(events[::2], events[1::2], strict=True)]
    assert all(a.action == "inject" and b.action == "clear" for a, b in zip(events[::2], events[1::2], strict=True))

    # Correctness relation: sent inside the toxic's window → about TOXIC_MS slower than sent outside every fault.
    requests = read_requests(run_dir).to_pandas()
    on, off = toxic[0].at, toxic[1].at
    during = requests[(requests["started_at"] > on + 0.2) & (requests["ended_at"] < off - 0.1)]
    clear_of_faults = ~requests.apply(
        lambda r: any(r["started_at"] < end + 0.5 and r["ended_at"] > start - 0.1 for start, end in windows), axis=1
    )
    outside = requests[clear_of_faults]
    assert len(during) >= 8 and len(outside) >= 20, (len(during), len(outside))
    extra_ms = during["latency_ms"].median() - outside["latency_ms"].median()
    assert 0.75 * TOXIC_MS <= extra_ms <= 1.75 * TOXIC_MS, (extra_ms, during["latency_ms"].describe())
