"""The event loop the chaos proxy runs on: uvloop when it is installed (it comes with ``uvicorn[standard]``),
else asyncio's own. The relay is mostly socket reads, writes and task wake-ups, which uvloop does in C: the
proxy then costs the machine less CPU, and distorts what it relays less (``bench/proxy_overhead.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it on every platform we run on
        return None
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the proxy's loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coro)
