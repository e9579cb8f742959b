"""Process faults on a local candidate the harness started: SIGKILL, freeze (SIGSTOP/SIGCONT), graceful restart.

Targets are :class:`~ground.services.ServiceProcess` objects from the run's fault targets, hit by the pid the
harness got when it started them, never by name. Before any signal the pid must still be a descendant of this
process: a stale pid that the OS gave to someone else's program is refused. ``ServiceProcess`` starts each
server in its own session, so signals go to the whole process group (uvicorn workers included).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
from pydantic import Field

from ground.errors import FaultError
from ground.services import ServiceProcess
from harness.faults.base import FaultParams, FaultTargets, register_fault


def require_own_pid(pid: int, label: str) -> None:
    """Refuse any pid that is not a live descendant of this process (a stale pid may now be someone else's)."""
    children = {child.pid for child in psutil.Process().children(recursive=True)}
    if pid not in children:
        raise FaultError(f"pid {pid} ({label}) is not a process this harness started; refusing to signal it")


def owned_pid(service: ServiceProcess) -> int:
    """The service's pid, after checking it is alive and one of this process's own descendants."""
    if service.process is None or service.process.poll() is not None:
        raise FaultError(f"process {service.name!r} is not running, so it cannot be hit")
    require_own_pid(service.process.pid, repr(service.name))
    return service.process.pid


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group the service leads, or just the pid when it does not lead one."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        if sig not in (signal.SIGCONT, signal.SIGKILL):
            raise


class _ProcessFault:
    Params: type[FaultParams] = FaultParams
    name = "process"

    def __init__(self, params: FaultParams, service: ServiceProcess, target_name: str) -> None:
        self.params = params
        self.service = service
        self._target = f"process:{target_name or service.name}"

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: FaultParams, targets: FaultTargets, target: str) -> _ProcessFault:
        return cls(params, targets.pick("processes", target), target)

    def _start_again(self) -> None:
        if not self.service.alive():
            self.service.stop()  # reaps the old process and closes its log before the new start
            self.service.start()  # bounded by the service's start_timeout; raises if it never gets healthy


class KillParams(FaultParams):
    restart: bool = Field(False, description="start the process again when the fault is cleared")
    wait_s: float = Field(5.0, gt=0, description="how long to wait for the killed process to be gone")


@register_fault("process-kill")
class ProcessKill(_ProcessFault):
    """SIGKILL a local candidate process (and its group); optionally start it again on clear."""

    Params = KillParams
    params: KillParams

    def inject(self) -> None:
        pid = owned_pid(self.service)
        signal_group(pid, signal.SIGKILL)
        assert self.service.process is not None
        try:
            self.service.process.wait(timeout=self.params.wait_s)
        except subprocess.TimeoutExpired as exc:
            raise FaultError(f"pid {pid} was sent SIGKILL but still runs after {self.params.wait_s:g} s") from exc

    def clear(self) -> None:
        if self.params.restart:
            self._start_again()


class FreezeParams(FaultParams):
    wait_s: float = Field(5.0, gt=0, description="how long to wait for the kernel to show the process stopped")


def wait_status(pid: int, *, stopped: bool, within_s: float) -> None:
    """Signals are delivered asynchronously; confirm the state the fault promises before reporting it done."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            status = psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            return
        if (status == psutil.STATUS_STOPPED) == stopped:
            return
        if time.monotonic() > deadline:
            raise FaultError(f"pid {pid} is still {status!r} {within_s:g} s after the signal")
        time.sleep(0.005)  # waiting on the kernel, bounded by the deadline above


@register_fault("process-freeze")
class ProcessFreeze(_ProcessFault):
    """Freeze a local candidate process with SIGSTOP; SIGCONT on clear (a hung, not dead, server)."""

    Params = FreezeParams
    params: FreezeParams

    def inject(self) -> None:
        pid = owned_pid(self.service)
        signal_group(pid, signal.SIGSTOP)
        wait_status(pid, stopped=True, within_s=self.params.wait_s)

    def clear(self) -> None:
        if self.service.process is not None and self.service.process.poll() is None:
            signal_group(self.service.process.pid, signal.SIGCONT)
            wait_status(self.service.process.pid, stopped=False, within_s=self.params.wait_s)


class RestartParams(FaultParams):
    grace_s: float = Field(5.0, gt=0, description="SIGTERM, then SIGKILL after this many seconds")


@register_fault("process-restart")
class ProcessRestart(_ProcessFault):
    """Graceful restart: SIGTERM (then SIGKILL after the grace period) on inject, start again on clear."""

    Params = RestartParams
    params: RestartParams

    def inject(self) -> None:
        owned_pid(self.service)
        self.service.stop(timeout=self.params.grace_s)

    def clear(self) -> None:
        self._start_again()
