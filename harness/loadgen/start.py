"""One origin for the whole run: the load's start time, chosen once, shared by every worker and by the faults.

The master (or the local runner) chooses the start at the first tick of its shape after every worker reported
its pool spawned, :data:`START_LEAD_S` ahead so the message reaches every worker in time. The start travels to
the workers as a custom message (``scrm_start``) and is kept on each process's ``parsed_options`` as
:data:`START_OPTION`; each worker's dispatcher starts its share of the schedule at exactly that time:
``scheduled_at = start + offset`` on every worker. The master also writes it to
``load-start-p{phase}.json`` in the results folder, where the runner's fault schedule waits for it, so a fault
planned at 8 s happens 8 s after the load's own origin, however long Locust took to connect its workers.

No Locust import here: the runner (outside Locust) reads the file with :func:`read_load_start`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

START_OPTION = "scrm_start_at"
# Room for the start message to reach every worker (the pools are already spawned when it is chosen).
START_LEAD_S = 1.0


def load_start_path(run_dir: Path, phase: int) -> Path:
    return run_dir / f"load-start-p{phase}.json"


def shared_start(parsed_options: Any) -> float | None:
    """The start chosen by the master (or local runner), or None in a process that never got one."""
    value = getattr(parsed_options, START_OPTION, None) if parsed_options is not None else None
    return float(value) if value is not None else None


def choose_start(parsed_options: Any, *, now: float, lead_s: float, renew: bool) -> tuple[float, bool]:
    """The run's start (``now + lead_s`` unless one was chosen and ``renew`` is False); whether it is new."""
    current = shared_start(parsed_options)
    if current is not None and not renew:
        return current, False
    start = now + lead_s
    setattr(parsed_options, START_OPTION, start)
    return start, True


def write_load_start(run_dir: Path, phase: int, start_at: float, **extra: Any) -> Path:
    """Atomically write the start (a reader never sees half a file)."""
    path = load_start_path(run_dir, phase)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(orjson.dumps({"start_at": start_at, "phase": phase, **extra}))
    os.replace(temporary, path)
    return path


def read_load_start(run_dir: Path, phase: int = 0) -> float | None:
    """The start written for ``phase``, or None while the load has not chosen it yet."""
    try:
        data = orjson.loads(load_start_path(run_dir, phase).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    value = data.get("start_at") if isinstance(data, dict) else None
    return float(value) if isinstance(value, int | float) else None
