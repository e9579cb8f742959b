"""A server started by the harness stops when the harness dies, even by SIGKILL (no orphaned mocks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from ground.net import free_port
from ground.orphans import PARENT_ENV, exit_with_parent, parent_env


def test_no_watcher_without_a_parent_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PARENT_ENV, raising=False)
    assert exit_with_parent() is None


def test_parent_env_names_this_process() -> None:
    assert parent_env() == {PARENT_ENV: str(os.getpid())}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
def test_mock_started_by_a_killed_harness_stops_by_itself(tmp_path) -> None:
    port = free_port()
    harness_script = textwrap.dedent(
        f"""
        import sys, time
        from ground.services import ServiceProcess
        service = ServiceProcess.python_module(
            "mock", ["mock", "serve", "--port", "{port}"], health_url="http://127.0.0.1:{port}/_mock/health"
        ).start()
        print(service.pid, flush=True)
        time.sleep(120)
        """
    )
    harness = subprocess.Popen([sys.executable, "-c", harness_script], stdout=subprocess.PIPE, text=True)
    try:
        assert harness.stdout is not None
        child_pid = int(harness.stdout.readline())
        assert not _gone(child_pid)
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
        child = psutil.Process(child_pid)
        try:
            child.wait(timeout=30)  # the watcher polls once a second, then the server shuts down gracefully
        except psutil.TimeoutExpired:
            child.kill()
            pytest.fail("the mock outlived the harness that started it")
        assert _gone(child_pid)
    finally:
        if harness.poll() is None:
            harness.kill()
