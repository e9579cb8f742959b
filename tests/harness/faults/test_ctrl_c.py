"""Ctrl-C for real: SIGINT to a process whose runner holds a child frozen; the child is thawed and the clear is in
``faults.jsonl`` before the process exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SCRIPT = r"""
import asyncio, sys
from pathlib import Path
from harness.faults import FaultRunner, FaultSchedule, FaultTargets, FaultTimeline, at, plan
from ground.net import free_port
from ground.services import ServiceProcess

out = Path(sys.argv[1])
port = free_port()
child = ServiceProcess(
    "child", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
    health_url=f"http://127.0.0.1:{port}/",
)
with child:
    (out / "child.pid").write_text(str(child.pid))
    timeline = FaultTimeline(out / "faults.jsonl")
    timeline.add_listener(lambda event: print(event.action, flush=True))
    schedule = FaultSchedule(faults=[at(0, "process-freeze", target="child", duration=3600)])
    runner = FaultRunner(plan(schedule, 7200), FaultTargets(processes={"child": child}), timeline)
    try:
        asyncio.run(runner.run())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        (out / "child.state").write_text(__import__("psutil").Process(child.pid).status())
"""


def test_sigint_mid_run_thaws_the_frozen_child(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inject"  # blocks until the child is frozen
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert rest.split() == ["clear", "interrupted"]
    assert (tmp_path / "child.state").read_text() != "stopped"
    events = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    assert [(e["action"], e["ok"]) for e in events] == [("inject", True), ("clear", True)]
    assert events[0]["fault_id"] == events[1]["fault_id"]
