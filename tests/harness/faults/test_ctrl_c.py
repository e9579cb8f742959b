"""Ctrl-C for real: SIGINT to a process whose runner holds a child frozen; the child is thawed and the clear is in
``faults.jsonl`` before the process exits."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# Each script first restores Python's SIGINT handler: a background job of a non-interactive shell (a CI launcher)
# inherits SIGINT as ignored, and asyncio.run only takes Ctrl-C over from Python's own handler.
SCRIPT = r"""
import asyncio, signal, sys, threading, time
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
from ground.clock import SystemClock
from ground.net import free_port
from ground.services import ServiceProcess
from harness.faults import FaultRunner, FaultSchedule, FaultTargets, FaultTimeline, at, plan

out, through_a_bystander = Path(sys.argv[1]), sys.argv[2] == "bystander"
waiting = threading.Event()


class TellingClock(SystemClock):
    async def sleep(self, seconds):
        if seconds > 60:
            waiting.set()  # the runner waits for the freeze's end now
        await super().sleep(seconds)


bystander = threading.Thread(target=threading.Event().wait, daemon=True)
bystander.start()
wchan = Path(f"/proc/self/task/{threading.main_thread().native_id}/wchan")


def interrupt_through_the_bystander():
    waiting.wait(60)
    deadline = time.monotonic() + 30
    while "epoll" not in wchan.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the main thread is asleep in the loop's epoll_wait
    print("asleep" if "epoll" in wchan.read_text() else "awake", flush=True)
    signal.pthread_kill(bystander.ident, signal.SIGINT)


port = free_port()
child = ServiceProcess(
    "child", [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
    health_url=f"http://127.0.0.1:{port}/",
)
with child:
    (out / "child.pid").write_text(str(child.pid))
    timeline = FaultTimeline(out / "faults.jsonl")
    schedule = FaultSchedule(faults=[at(0, "process-freeze", target="child", duration=3600)])
    runner = FaultRunner(
        plan(schedule, 7200), FaultTargets(processes={"child": child}), timeline, clock=TellingClock()
    )
    if through_a_bystander:
        threading.Thread(target=interrupt_through_the_bystander, daemon=True).start()
    else:
        timeline.add_listener(lambda event: print(event.action, flush=True))
    try:
        asyncio.run(runner.run())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        (out / "child.state").write_text(__import__("psutil").Process(child.pid).status())
"""


def test_sigint_mid_run_thaws_the_frozen_child(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "listener"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inject"  # blocks until the child is frozen
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert rest.split() == ["clear", "interrupted"]
    assert (tmp_path / "child.state").read_text() != "stopped"
    events = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    assert [(e["action"], e["ok"]) for e in events] == [("inject", True), ("clear", True)]
    assert events[0]["fault_id"] == events[1]["fault_id"]


# SIGINT that the kernel hands to another thread of the process, while the main thread sleeps in the loop's
# epoll_wait ahead of an hour-long step: Python runs handlers on the main thread only, so without a wakeup fd
# the Ctrl-C would wait the hour. The bystander thread takes the signal; the runner must still clear and stop.
def test_sigint_caught_by_another_thread_still_wakes_the_runner(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path), "bystander"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        out, _ = proc.communicate(timeout=90)
    finally:
        proc.kill()
        if (tmp_path / "child.pid").exists():  # a child left frozen by a lost Ctrl-C: thaw and stop it
            with contextlib.suppress(psutil.NoSuchProcess):
                child = psutil.Process(int((tmp_path / "child.pid").read_text()))
                if "http.server" in child.cmdline():
                    child.resume()
                    child.kill()
    assert out.split() == ["asleep", "interrupted"], out
    assert (tmp_path / "child.state").read_text() != "stopped"
    events = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    assert [(e["action"], e["ok"]) for e in events] == [("inject", True), ("clear", True)]
