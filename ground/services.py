"""Start and stop the local servers (mock, reference vendors, proxy) as real processes on loopback.

A ``ServiceProcess`` runs a command, waits until its health URL answers 200, and stops it (SIGTERM, then
SIGKILL) on exit, also when the caller fails. Tests, the runner and ``scrmbench demo`` all use it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from ground.errors import HarnessError
from ground.orphans import parent_env


class ServiceProcess:
    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        health_url: str,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.health_url = health_url
        self.log_path = log_path
        self.env = env
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @classmethod
    def python_module(cls, name: str, module_args: Sequence[str], **kwargs: object) -> ServiceProcess:
        """A service run as ``python -m harness.cli ...`` with this interpreter."""
        return cls(name, [sys.executable, "-m", "harness.cli", *module_args], **kwargs)  # type: ignore[arg-type]

    @property
    def pid(self) -> int:
        if self.process is None:
            raise HarnessError(f"{self.name} is not running")
        return self.process.pid

    def start(self) -> ServiceProcess:
        env = {**os.environ, **parent_env(), **(self.env or {})}
        env.setdefault("PYTHONUNBUFFERED", "1")
        out: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error = "no answer yet"
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise HarnessError(
                        f"{self.name} exited with code {self.process.returncode} before it was ready; "
                        f"see {self.log_path or 'its output'}"
                    )
                try:
                    if client.get(self.health_url).status_code == 200:
                        return
                    last_error = "health check did not answer 200"
                except httpx.HTTPError as exc:
                    last_error = type(exc).__name__
                time.sleep(0.05)  # polling a real process's readiness, not faking a behaviour
        self.stop()
        raise HarnessError(
            f"{self.name} did not become healthy at {self.health_url} within {self.start_timeout:.0f} s ({last_error})"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
