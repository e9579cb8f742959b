"""Servers the harness starts do not outlive it.

``ServiceProcess`` names its own pid in ``SCRMBENCH_PARENT_PID`` when it starts a server; the server's entry point
calls :func:`exit_with_parent`, which watches that pid and sends the server SIGTERM (its normal, graceful stop)
once the harness is gone, even when the harness died by SIGKILL and could run no clean-up of its own. Started
by hand (no variable), a server runs until it is stopped.

Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread* that forked the child ends, and the runner
starts services from a short-lived thread pool.
"""

from __future__ import annotations

import os
import signal
import threading

PARENT_ENV = "SCRMBENCH_PARENT_PID"


def parent_env() -> dict[str, str]:
    """The environment entry that ties a child server to this process."""
    return {PARENT_ENV: str(os.getpid())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exit_with_parent(poll_s: float = 1.0) -> threading.Thread | None:
    """Start a daemon watcher if this process was started by a harness; returns the watcher thread."""
    value = os.environ.get(PARENT_ENV, "")
    if not value.isdigit():
        return None
    parent = int(value)
    # Our own children inherit the variable; they watch the same harness, which is what we want.
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(poll_s):
            if os.getppid() != parent and not _alive(parent):
                os.kill(os.getpid(), signal.SIGTERM)
                return

    thread = threading.Thread(target=watch, name="scrmbench-parent-watch", daemon=True)
    thread.start()
    return thread
