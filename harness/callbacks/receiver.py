"""The run's callback receiver: a small HTTP server that records what a hosted vendor reports about each message.

It listens on loopback (``callbacks.host``/``port`` in the vendor profile; a free port by default) under a path
made for each run, ``/cb/<secret>``: a vendor on the internet reaches it only through the user's own tunnel or
ingress (docs/hosted-vendors.md), and nobody who does not know the path can post into the run. Every POST goes,
in this order, through:

    wrong path        404, counted ``wrong_path`` (strangers, scanners)
    rate limit        a token bucket of ``max_per_s`` a second, ``burst`` deep: past it 429, counted ``shed``
                      (the manifest says how many and at what rate), so a flood cannot starve the run's machine
    size              bodies over ``MAX_BODY`` bytes: 413, counted ``malformed``
    signature         the dialect's check (X-Twilio-Signature, X-Hub-Signature-256, a shared header): 401, counted
                      ``refused``; a forged or unsigned callback is never recorded as the vendor's
    body              what the dialect cannot read: 400, counted ``malformed``
    recorded          200; each event becomes a row of ``VENDOR_EVENT_SCHEMA`` in ``vendor_events/*.parquet``
                      (a ``ShardSink``, flushed every second like the request shards), folded into
                      ``vendor_events.parquet`` when the run ends (``merge_vendor_events``)

``CallbackHandler`` is the decision, without a server (tests drive it with bytes and a fake clock);
``CallbackReceiver`` serves it with uvicorn on a thread of the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ground.clock import Clock, SystemClock
from ground.errors import HarnessError
from ground.records import VENDOR_EVENT_SCHEMA, RecordSink
from harness.callbacks.dialects import CallbackRequest, Dialect, Malformed
from harness.recorder import fold_shards

log = logging.getLogger(__name__)

EVENTS_DIR = "vendor_events"
EVENTS_FILE = "vendor_events.parquet"
PATH_PREFIX = "/cb/"
MAX_BODY = 1 << 20


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``take`` is False when the bucket is empty."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self.tokens = float(burst)
        self.at = clock.monotonic()

    def take(self) -> bool:
        now = self.clock.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class CallbackStats:
    received: int = 0  # POSTs on the run's path
    accepted: int = 0  # answered 200 and recorded
    events: int = 0  # rows recorded (a Cloud API POST may carry several statuses)
    refused: int = 0  # bad or missing signature (401)
    malformed: int = 0  # unreadable or oversized body (400, 413)
    shed: int = 0  # over the rate (429)
    wrong_path: int = 0  # POSTs elsewhere (404)
    first_shed_at: float | None = None
    last_shed_at: float | None = None


@dataclass
class CallbackHandler:
    """The receiver's decisions for one run: path, rate, signature, body, record."""

    dialect: Dialect
    secret: str | None  # the signing key (Twilio's auth token, the app secret, a shared header value)
    sink: RecordSink
    advertised_base: str  # what the vendor was told, up to the path: http://127.0.0.1:PORT or the public URL
    path_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    max_per_s: float = 500.0
    burst: int = 1000
    clock: Clock = field(default_factory=SystemClock)
    stats: CallbackStats = field(default_factory=CallbackStats)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.max_per_s, self.burst, self.clock)

    @property
    def path(self) -> str:
        return PATH_PREFIX + self.path_secret

    @property
    def url(self) -> str:
        """The callback URL to give the vendor (it carries the run's secret: never write it to results)."""
        return self.advertised_base.rstrip("/") + self.path

    def handle(self, path: str, query: str, headers: dict[str, str], body: bytes, content_type: str) -> tuple[int, str]:
        if not secrets.compare_digest(path.encode(), self.path.encode()):
            self.stats.wrong_path += 1
            return 404, "not found"
        self.stats.received += 1
        if not self.bucket.take():
            now = self.clock.now()
            self.stats.shed += 1
            self.stats.first_shed_at = self.stats.first_shed_at or now
            self.stats.last_shed_at = now
            return 429, "too many callbacks; slow down"
        if len(body) > MAX_BODY:
            self.stats.malformed += 1
            return 413, "body too large"
        url = self.url + (f"?{query}" if query else "")
        request = CallbackRequest(url, headers, body, content_type)
        if not self.dialect.verify(request, self.secret):
            self.stats.refused += 1
            return 401, "bad or missing signature"
        try:
            events = self.dialect.parse(request, self.clock.now())
        except Malformed as exc:
            self.stats.malformed += 1
            return 400, f"unreadable callback: {exc}"
        for event in events:
            self.sink.append_values(event.row())
        self.stats.accepted += 1
        self.stats.events += len(events)
        return 200, "ok"

    def manifest_section(self, dialect: str, public_url: str | None) -> dict[str, Any]:
        """What the manifest says about the receiver: its settings and counts, never its secret path."""
        return {
            "dialect": dialect,
            "url": self.advertised_base.rstrip("/") + PATH_PREFIX + "<secret>",
            "public_url": public_url,
            "max_per_s": self.max_per_s,
            "burst": self.burst,
            **asdict(self.stats),
        }


def _app(handler: CallbackHandler) -> Starlette:
    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        status, text = handler.handle(
            request.url.path, request.url.query, headers, body, request.headers.get("content-type", "")
        )
        return PlainTextResponse(text, status_code=status)

    async def handshake(request: Request) -> Response:
        # Meta-style subscription check (Cloud API forwarders): answer the challenge on the run's path only.
        if not secrets.compare_digest(request.url.path.encode(), handler.path.encode()):
            handler.stats.wrong_path += 1
            return PlainTextResponse("not found", status_code=404)
        return PlainTextResponse(request.query_params.get("hub.challenge", "ok"))

    return Starlette(
        routes=[
            Route("/{rest:path}", receive, methods=["POST"]),
            Route("/{rest:path}", handshake, methods=["GET"]),
        ]
    )


class CallbackReceiver:
    """Serve a ``CallbackHandler`` with uvicorn on a thread; ``start`` binds first, so a taken port is a clear error."""

    def __init__(self, handler: CallbackHandler, *, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 10.0):
        self.handler = handler
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="scrmbench-callbacks", daemon=True)

    @staticmethod
    def bind(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise HarnessError(
                f"the callback receiver could not listen on {host}:{port} ({exc.strerror}); "
                "fix: set callbacks.port in the vendor profile to a free port, or 0 for any"
            ) from None
        return sock

    def start(self, sock: socket.socket | None = None) -> CallbackReceiver:
        self._socket = sock or self.bind(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        self._thread.start()
        if not self._ready.wait(self.timeout_s) or self._server is None or not self._server.started:
            self.stop()
            raise HarnessError(f"the callback receiver did not start on {self.host}:{self.port}")
        return self

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        config = uvicorn.Config(_app(self.handler), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        task = asyncio.create_task(self._server.serve(sockets=[self._socket] if self._socket else None))
        while not self._server.started and not task.done():
            await asyncio.sleep(0.01)  # uvicorn exposes readiness only as a flag
        self._ready.set()
        await task

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(self.timeout_s)
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def read_vendor_events(run_dir: Path) -> pa.Table:
    """Every recorded vendor event: ``vendor_events.parquet`` plus shards not merged yet (a run cut short)."""
    files = [run_dir / EVENTS_FILE] if (run_dir / EVENTS_FILE).is_file() else []
    folder = run_dir / EVENTS_DIR
    files += sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    tables = [pq.read_table(path, schema=VENDOR_EVENT_SCHEMA) for path in files]
    return pa.concat_tables(tables) if tables else VENDOR_EVENT_SCHEMA.empty_table()


def merge_vendor_events(run_dir: Path) -> Path | None:
    """Fold ``vendor_events/*.parquet`` into ``vendor_events.parquet`` (atomic), then remove the shards."""
    folder = run_dir / EVENTS_DIR
    if not folder.is_dir():
        return None
    return fold_shards(run_dir, EVENTS_DIR, EVENTS_FILE, read_vendor_events(run_dir))
