"""The runner's edges without load: bad input exits 2 with a fix, disk full is a clear harness error."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from rich.console import Console

from ground.errors import EXIT_BAD_INPUT, HarnessError
from ground.records import FaultEvent
from harness.cli import main
from harness.run import runner
from harness.run.progress import render
from harness.run.runner import RunRequest, lost_agents, prepare
from harness.run.shards import missing_workers
from plan.load import AgentsPlan

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
STEADY = str(VENDORS / "reference-steady.yaml")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--vendor", STEADY, "--scenario", "black-friday"], "unknown scenario"),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--users", "3", "--rate", "5"], "not both"),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--param", "rate=-1"], "field 'rate'"),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--param", "nonsense"], "KEY=VALUE"),
        (["run", "--vendor", "no/such/profile.yaml", "--scenario", "peak"], "does not exist"),
        (["run", "--vendor", str(VENDORS / "cloud-api-mock.yaml"), "--scenario", "data-volume"], "does not offer"),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--mock-shards", "0"], "field 'mock_shards'"),
        (["run", "--vendor", STEADY, "--scenario", "peak", "--mock-shards", "17"], "1 to 16"),
        (
            ["run", "--vendor", str(VENDORS / "generic-http-example.yaml"), "--scenario", "peak", "--mock-shards", "2"],
            "to route by number",
        ),
    ],
)
def test_bad_input_exits_2_with_the_reason(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*argv, "--out", str(tmp_path), "--no-progress"])
    assert code == EXIT_BAD_INPUT
    assert expected in capsys.readouterr().err.replace("\n", " ")
    assert not any(tmp_path.iterdir())  # nothing was started and no run folder was made


def test_disk_full_while_writing_the_manifest_is_a_clear_harness_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "write_manifest", full)
    request = RunRequest(vendor=Path(STEADY), scenario="peak", quick=True, results_root=tmp_path)
    with pytest.raises(HarnessError, match="disk full while writing results") as info:
        prepare(request)
    assert info.value.exit_code == 3


def test_scenarios_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("peak", "broadcast", "media-burst", "failover", "soak", "data-volume", "capacity", "throttle"):
        assert name in out
    assert "webhook-storm" in out


def test_missing_workers_are_read_from_the_masters_worker_states(tmp_path: Path) -> None:
    states = {
        "worker-0": {"state": "running", "missing_since": None},
        "worker-1": {"state": "missing", "missing_since": 1000.0},
    }
    (tmp_path / "workers.json").write_text(json.dumps(states))
    assert missing_workers(tmp_path, 1060.0) == [{"worker": "worker-1", "missing_from": 1000.0, "missing_to": 1060.0}]


def test_progress_shows_rate_latency_errors_drops_and_the_last_fault() -> None:
    live = {"requests": 200, "failures": 10, "dropped": 3, "rps": 19.5, "p95_ms": 120.0, "users": 50}
    fault = FaultEvent(at=1.0, action="inject", fault="process-kill", target="process:primary")
    console = Console(width=200, record=True)
    console.print(render(live, scenario="failover", phase="steady", elapsed_s=12, planned_s=30, faults=[fault]))
    text = console.export_text()
    for part in ("12/30 s", "19.5", "120", "10 (5.0%)", "inject process-kill", "failover"):
        assert part in text


def test_remote_workers_need_a_reachable_master(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--vendor", STEADY, "--scenario", "peak", "--remote-workers", "2", "--out", str(tmp_path)]
    assert main(argv) == EXIT_BAD_INPUT
    assert "--master-host" in capsys.readouterr().err


def test_a_master_with_remote_workers_expects_them_all_and_local_workers_use_loopback(tmp_path: Path) -> None:
    from harness.run.locust_phase import LocustPhase

    phase = LocustPhase(["--scenario", "peak"], tmp_path, 0, workers=1, master_host="0.0.0.0", remote_workers=3,
                        master_port=5599)  # fmt: skip
    spawned: dict[str, list[str]] = {}
    phase._spawn = lambda name, extra: spawned.__setitem__(name, extra)  # type: ignore[method-assign]
    phase.start()
    master = spawned["master"]
    assert master[master.index("--expect-workers") + 1] == "4"
    assert master[master.index("--master-bind-port") + 1] == "5599"
    worker = spawned["worker0"]
    assert worker[worker.index("--master-host") + 1] == "127.0.0.1"


def test_a_missing_workers_note_names_the_agents_that_stopped_with_it() -> None:
    agents = AgentsPlan(first_shift=20, second_shift=5)
    note = lost_agents(agents, "worker-1", 2, "abc123")
    assert "agent-abc123-001, agent-abc123-003" in note and "agent-abc123-019" in note
    assert "and 2 more" in note and "agent-abc123-000" not in note  # 12 agents: ten named, the rest counted
    assert lost_agents(None, "worker-1", 2, "abc123") == ""  # not a contact-centre run
    assert lost_agents(agents, "worker-7", 2, "abc123") == ""  # a late extra worker ran no agents
    assert lost_agents(agents, "local", 1, "abc123") == ""
