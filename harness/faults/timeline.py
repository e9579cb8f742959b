"""The fault timeline: every inject, clear and failure, on the run's clock, appended to ``faults.jsonl``.

Times come from the injected clock's ``now()`` (wall-clock Unix seconds), the same clock the request records use, so
analysis joins them without conversion. An inject or clear is timed when it *starts* (``at``: the kill was sent
then, even if the process takes seconds to go) and carries ``ended_at``, when it returned. Each line is flushed as
it is written: a run that crashes still leaves the fault actions it took. Listeners (the live progress display) get
each event as it happens; a listener that raises is logged and does not stop the run (locust's ``EventHook`` rule).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from ground.clock import Clock, SystemClock
from ground.errors import FaultError
from ground.records import FaultAction, FaultEvent
from harness.faults.base import Fault

log = logging.getLogger(__name__)

Listener = Callable[[FaultEvent], None]


class FaultTimeline:
    def __init__(self, path: Path | None = None, *, clock: Clock | None = None) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self.events: list[FaultEvent] = []
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # closed in close()

    def add_listener(self, listener: Listener) -> Listener:
        self._listeners.append(listener)
        return listener

    def new_id(self, fault: Fault) -> str:
        return f"{fault.name}-{next(self._ids)}"

    def record(
        self,
        action: FaultAction,
        fault: str,
        *,
        target: str = "",
        params: dict[str, Any] | None = None,
        fault_id: str = "",
        ok: bool = True,
        detail: str = "",
        at: float | None = None,
        ended_at: float | None = None,
    ) -> FaultEvent:
        event = FaultEvent(
            at=self.clock.now() if at is None else at,
            ended_at=ended_at,
            action=action,
            fault=fault,
            target=target,
            params=params or {},
            fault_id=fault_id,
            ok=ok,
            detail=detail,
        )
        with self._lock:
            self.events.append(event)
            if self._file is not None:
                self._file.write(event.model_dump_json() + "\n")
                self._file.flush()
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("fault timeline listener %r failed; the run goes on", listener)
        return event

    def apply(self, fault: Fault, action: Literal["inject", "clear"], fault_id: str = "") -> FaultEvent:
        """Run ``fault.inject()`` or ``fault.clear()`` and record it, timed at its start; a failure is recorded
        (``error``, ok false, the exception's text), then raised."""
        params = fault.params.model_dump(mode="json")
        started = self.clock.now()
        try:
            if action == "inject":
                fault.inject()
            else:
                fault.clear()
        except Exception as exc:
            detail = f"{action} failed: {type(exc).__name__}: {exc}"
            self.error(fault, fault_id, detail, at=started, ended_at=self.clock.now())
            raise FaultError(f"fault {fault.name!r} on {fault.target}: {detail}") from exc
        return self.record(
            action, fault.name, target=fault.target, params=params, fault_id=fault_id, at=started,
            ended_at=self.clock.now(),
        )  # fmt: skip

    def error(
        self, fault: Fault, fault_id: str, detail: str, *, at: float | None = None, ended_at: float | None = None
    ) -> FaultEvent:
        """Record a failure that happened around a fault action (a timeout waiting for it, for example)."""
        params = fault.params.model_dump(mode="json")
        return self.record(
            "error", fault.name, target=fault.target, params=params, fault_id=fault_id, ok=False, detail=detail,
            at=at, ended_at=ended_at,
        )  # fmt: skip

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> FaultTimeline:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_timeline(path: Path) -> list[FaultEvent]:
    """Read ``faults.jsonl`` back; a missing file is an empty timeline (a run without faults)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [FaultEvent.model_validate_json(line) for line in lines if line.strip()]
