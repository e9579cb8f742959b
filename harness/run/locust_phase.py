"""Run Locust for one phase as separate processes: one local runner, or a master plus N worker processes.

Locust monkey-patches the standard library with gevent, so it never runs inside the runner's (or pytest's)
process; these are plain ``locust -f locustfile.py`` processes with the scrmbench options, the same command a user
would type, so ``scrmbench run`` and a hand-started Locust record identically.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ground.net import free_port

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfile.py"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the runner dies, even by SIGKILL, so no load keeps running unattended."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LocustPhase:
    args: list[str]  # scrmbench options shared by every process
    run_dir: Path
    phase: int
    workers: int = 0  # 0 (and no remote workers): one local runner; N: master + N local workers
    master_host: str = "127.0.0.1"  # the master's bind address; other machines' workers connect to it
    remote_workers: int = 0  # workers started on other machines (locust -f locustfile.py --worker ...)
    master_port: int = 0  # 0: a free port (local workers only); remote workers need a known one
    stop_timeout_s: float = 10.0
    env: dict[str, str] = field(default_factory=dict, repr=False)  # added to each process's environment
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, extra: list[str]) -> None:
        log_path = self.run_dir / "logs" / f"locust-{name}-p{self.phase}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *extra]
            self.processes[name] = subprocess.Popen(
                command,
                preexec_fn=_die_with_parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.run_dir,
                start_new_session=True,
                env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1"},
            )

    def start(self) -> None:
        common = [
            *self.args,
            "--phase",
            str(self.phase),
            "--stop-timeout",
            f"{self.stop_timeout_s:g}",
            "--exit-code-on-error",
            "0",
            "--only-summary",
        ]
        expected = self.workers + self.remote_workers
        if expected <= 0:
            self._spawn("local", ["--headless", *common])
            return
        port = self.master_port or free_port(self.master_host)
        self._spawn(
            "master",
            [
                "--headless",
                "--master",
                "--master-bind-host",
                self.master_host,
                "--master-bind-port",
                str(port),
                "--expect-workers",
                str(expected),
                "--expect-workers-max-wait",
                "120" if self.remote_workers else "60",
                "--worker-total",
                str(expected),
                *common,
            ],
        )
        # Local workers reach a master bound to every address through loopback.
        connect = "127.0.0.1" if self.master_host in ("0.0.0.0", "::", "") else self.master_host
        for index in range(self.workers):
            self._spawn(
                f"worker{index}",
                ["--worker", "--master-host", connect, "--master-port", str(port), *self.args],
            )

    @property
    def coordinator(self) -> subprocess.Popen[bytes]:
        return self.processes["master" if "master" in self.processes else "local"]

    def running(self) -> bool:
        return self.coordinator.poll() is None

    def worker_pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.processes.items() if name.startswith("worker")}

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM the coordinator first (Locust stops its workers), then anything left over; never by name."""
        for name in sorted(self.processes, key=lambda n: 0 if n in ("master", "local") else 1):
            process = self.processes[name]
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes.values():
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout_s)

    def wait(self, timeout_s: float | None = None) -> int:
        code = self.coordinator.wait(timeout=timeout_s)
        for name, process in self.processes.items():
            if name != "master" and process.poll() is None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        return code
