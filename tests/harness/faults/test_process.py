"""Process faults against a real child server: kill, freeze and thaw, graceful restart; strangers are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from ground.errors import FaultError
from ground.services import ServiceProcess
from harness.faults import REGISTRY, FaultTargets, FaultTimeline
from harness.faults.process import require_own_pid

pytestmark = pytest.mark.timeout(120)


def answers(service: ServiceProcess, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(service.health_url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def test_kill_then_restart_on_clear(child_server: ServiceProcess, tmp_path: Path) -> None:
    targets = FaultTargets(processes={"primary": child_server})
    fault = REGISTRY.get("process-kill").create({"restart": True}, targets, "primary")
    timeline = FaultTimeline(tmp_path / "faults.jsonl")
    old_pid = child_server.pid

    timeline.apply(fault, "inject", "k1")
    assert not child_server.alive()
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
    assert not answers(child_server)

    timeline.apply(fault, "clear", "k1")
    assert child_server.alive() and child_server.pid != old_pid
    assert answers(child_server)
    assert [(e.action, e.target) for e in timeline.events] == [
        ("inject", "process:primary"),
        ("clear", "process:primary"),
    ]


def test_freeze_stops_answers_and_thaw_brings_them_back(child_server: ServiceProcess) -> None:
    fault = REGISTRY.get("process-freeze").create({}, FaultTargets(processes={"p": child_server}), "p")
    fault.inject()
    try:
        assert psutil.Process(child_server.pid).status() == psutil.STATUS_STOPPED
        assert not answers(child_server, timeout=0.5)  # the kernel accepts the connection; nobody answers
    finally:
        fault.clear()
    assert psutil.Process(child_server.pid).status() != psutil.STATUS_STOPPED
    assert answers(child_server)
    fault.clear()  # idempotent


def test_graceful_restart_stops_on_inject_and_starts_on_clear(child_server: ServiceProcess) -> None:
    fault = REGISTRY.get("process-restart").create({"grace_s": 3}, FaultTargets(processes={"p": child_server}), "p")
    fault.inject()
    assert not child_server.alive()
    fault.clear()
    assert child_server.alive() and answers(child_server)


def test_a_process_the_harness_did_not_start_is_refused(child_server: ServiceProcess) -> None:
    with pytest.raises(FaultError, match=r"pid \d+ \('parent'\) is not a process this harness started"):
        require_own_pid(os.getppid(), "'parent'")  # our parent is certainly not our descendant
    require_own_pid(child_server.pid, "child")  # our own child passes


def test_a_dead_target_is_a_recorded_fault_error(tmp_path: Path) -> None:
    service = ServiceProcess("done", [sys.executable, "-c", "pass"], health_url="http://127.0.0.1:1/")
    service.process = subprocess.Popen([sys.executable, "-c", "pass"])
    service.process.wait()
    timeline = FaultTimeline(tmp_path / "f.jsonl")
    fault = REGISTRY.get("process-freeze").create({}, FaultTargets(processes={"d": service}), "d")
    with pytest.raises(FaultError, match="is not running"):
        timeline.apply(fault, "inject", "f1")
    assert timeline.events[-1].action == "error" and not timeline.events[-1].ok
