"""The recorder: every request becomes a row of ``REQUEST_SCHEMA`` in ``results/<run>/requests/*.parquet``.

A ``RequestRecorder`` listens to Locust's ``events.request`` on every worker (or is fed directly by the httpx
executors) and appends rows to a ``ShardSink``. The sink flushes at least once a second, each flush as its own
small, complete Parquet file written to a temporary name and renamed into place, so a process killed with
SIGKILL leaves only whole shards behind (a half-written temporary file is ignored by readers) and loses at most
the rows of the last flush interval. Page-cache writes survive a killed process; surviving a power cut would
need fsync per flush, which we do not pay for.

Record fields the recorder reads from a request's ``context`` (the adapters' Locust executor and the open-model
dispatcher put them there): ``scheduled_at``, ``operation``, ``outcome``, ``error_kind``, ``error_code``,
``error_text``, ``correlation_id``, ``vendor_message_id``, ``bytes_sent``, ``http_status``, and optionally
``vendor``, ``scenario``, ``worker``, ``phone_number_id`` (the business number used). Error texts pass through the
secret redactor: a vendor may echo a key.

Disk full: a flush that fails with ENOSPC or EDQUOT calls the sink's ``on_disk_full`` once. Under Locust
(``install_recorder``) that stops the load and ends the process with exit code ``LOCUST_EXIT_DISK_FULL``, which
the runner turns into a clear error; the shards already written stay whole and readable. Other write errors
keep the rows for the next flush and are reported at ``close``.

Test seam: ``SCRMBENCH_TEST_DISK_FULL_AT=N`` (environment) makes every write from the sink's N-th shard on
raise ``OSError(ENOSPC)``, as a disk that fills up mid-run would; the rest of the path is the real one. Tests use
it because a real full disk (a small tmpfs) needs privileges a test run does not have.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import re
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ground.clock import Clock, SystemClock
from ground.errors import HarnessError
from ground.records import REQUEST_COLUMNS, REQUEST_SCHEMA, RecordSink
from ground.secrets import REGISTRY, SecretRegistry

log = logging.getLogger(__name__)

REQUESTS_DIR = "requests"
MAX_ERROR_TEXT = 500
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# The exit code of a Locust process whose recorder hit a full disk (ENOSPC's own number, so it reads as such).
LOCUST_EXIT_DISK_FULL = errno.ENOSPC
TEST_DISK_FULL_ENV = "SCRMBENCH_TEST_DISK_FULL_AT"
# RequestRecorder.row builds tuples in this order; if the shared schema changes, fail at import, not silently.
_ROW_ORDER = (
    "scheduled_at", "started_at", "ended_at", "latency_ms", "corrected_latency_ms", "operation", "name", "status",
    "ok", "outcome", "error_kind", "error_code", "error_text", "bytes_sent", "bytes_received", "correlation_id",
    "vendor_message_id", "worker", "vendor", "scenario", "phone_number_id",
)  # fmt: skip
if _ROW_ORDER != REQUEST_COLUMNS:
    raise RuntimeError("harness.recorder is out of step with ground.records.REQUEST_SCHEMA; update _ROW_ORDER")


def safe_name(text: str, *, fallback: str = "worker") -> str:
    """A file-name-safe version of ``text`` (worker ids come from host names and Locust; never trust them)."""
    cleaned = _UNSAFE.sub("-", text).strip(".-")[:64]
    return cleaned or fallback


def default_worker_id() -> str:
    return safe_name(f"{socket.gethostname()}-{os.getpid()}")


def _write_shard(rows: list[tuple[Any, ...]], schema: pa.Schema, temporary: Path, final: Path) -> None:
    """Rows → one complete Parquet file, renamed into place only once whole. Touches no shared state."""
    columns = zip(*rows, strict=True)
    arrays = [pa.array(column, type=spec.type) for column, spec in zip(columns, schema, strict=True)]
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), temporary, compression="zstd")
    os.replace(temporary, final)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def _disk_full_from_env(environ: Mapping[str, str]) -> int | None:
    """The test seam's shard number (1-based) from ``SCRMBENCH_TEST_DISK_FULL_AT``; None when unset."""
    raw = environ.get(TEST_DISK_FULL_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HarnessError(f"{TEST_DISK_FULL_ENV} must be a shard number (1 or more), not {raw!r}") from None
    if value < 1:
        raise HarnessError(f"{TEST_DISK_FULL_ENV} must be a shard number (1 or more), not {raw!r}")
    return value


def _off_the_hub(work: Callable[[], None]) -> None:
    """Run ``work`` in a real OS thread when gevent has patched threading (inside Locust), so a flush does not
    freeze every user's greenlet and inflate the latencies being measured; directly otherwise."""
    if "gevent" in sys.modules:
        from gevent import get_hub, monkey

        if monkey.is_module_patched("threading"):
            get_hub().threadpool.apply(work)
            return
    work()


def _warm_up(schema: pa.Schema) -> None:
    # The first Parquet write loads the writer and the codec (about 0.2 s of CPU); pay it before the load starts,
    # not one second into it.
    pq.write_table(schema.empty_table(), io.BytesIO(), compression="zstd")


def fold_shards(run_dir: Path, folder: str, file: str, table: pa.Table, *, keep_empty: bool = True) -> Path | None:
    """Write ``table`` (the shards of ``run_dir/folder`` read together) as ``run_dir/file`` under a temporary name
    and rename it, then remove the shards and their folder. With ``keep_empty`` false an empty table writes no file
    (None)."""
    final = run_dir / file
    written = keep_empty or table.num_rows > 0
    if written:
        temporary = run_dir / f".{file}.tmp"
        pq.write_table(table, temporary, compression="zstd")
        os.replace(temporary, final)
    shards = run_dir / folder
    for shard in shards.iterdir():
        with contextlib.suppress(OSError):
            shard.unlink()
    with contextlib.suppress(OSError):
        shards.rmdir()
    return final if written else None


class ShardSink:
    """Buffer rows; ``flush`` writes them as one new Parquet shard. Thread- and greenlet-safe.

    The default ``ground.records.RecordSink``: what a ``RequestRecorder`` (and the health sampler) writes to."""

    def __init__(
        self,
        directory: Path,
        worker: str,
        *,
        flush_interval: float = 1.0,
        clock: Clock | None = None,
        schema: pa.Schema = REQUEST_SCHEMA,
        on_disk_full: Callable[[OSError], None] | None = None,
        disk_full_at: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``on_disk_full`` is called once, with the error, when a flush fails for lack of space or quota.
        ``disk_full_at`` (or ``SCRMBENCH_TEST_DISK_FULL_AT`` in ``environ``) is the test seam described above."""
        if flush_interval <= 0 or flush_interval > 1.0:
            raise ValueError("flush_interval must be in (0, 1] seconds: a crash may lose at most one second")
        self.directory = directory
        self.worker = safe_name(worker)
        self.flush_interval = flush_interval
        self.clock = clock or SystemClock()
        self.schema = schema
        # A per-instance tag keeps two processes that share a worker name from overwriting each other's shards.
        self._prefix = f"{self.worker}-{secrets.token_hex(3)}"
        self._columns = tuple(schema.names)
        self._rows: list[tuple[Any, ...]] = []  # tuples in schema order: cheap to append, fast to transpose
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sequence = 0
        self._last_flush = self.clock.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rows_written = 0
        self.shards_written = 0
        self.error: BaseException | None = None
        self.disk_full: OSError | None = None
        self.on_disk_full = on_disk_full
        if disk_full_at is None:
            disk_full_at = _disk_full_from_env(os.environ if environ is None else environ)
        self._fail_from = disk_full_at
        directory.mkdir(parents=True, exist_ok=True)
        _warm_up(schema)

    def append(self, row: Mapping[str, Any]) -> None:
        self.append_values(tuple(row.get(name) for name in self._columns))

    def append_values(self, values: tuple[Any, ...]) -> None:
        """One row as a tuple in schema order (the hot path: no dict per request)."""
        with self._lock:
            self._rows.append(values)

    def pending(self) -> int:
        return len(self._rows)

    def due(self) -> bool:
        return self.clock.monotonic() - self._last_flush >= self.flush_interval

    def maybe_flush(self) -> Path | None:
        return self.flush() if self.due() else None

    def flush(self) -> Path | None:
        """Write the buffered rows as one shard; on failure keep them for the next try and remember the error."""
        with self._write_lock:
            self._last_flush = self.clock.monotonic()
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return None
            name = f"{self._prefix}-{self._sequence:06d}.parquet"
            final = self.directory / name
            temporary = self.directory / f".{name}.tmp"
            try:
                if self._fail_from is not None and self._sequence + 1 >= self._fail_from:
                    raise OSError(errno.ENOSPC, f"No space left on device (injected by {TEST_DISK_FULL_ENV})")
                _off_the_hub(lambda: _write_shard(rows, self.schema, temporary, final))
            except (OSError, pa.ArrowException) as exc:
                with self._lock:
                    self._rows[:0] = rows
                self.error = exc
                with contextlib.suppress(OSError):  # the disk that failed the write may fail this too
                    temporary.unlink(missing_ok=True)
                log.error("recorder could not write %s: %s", final, exc)
                if isinstance(exc, OSError) and is_disk_full(exc) and self.disk_full is None:
                    self.disk_full = exc
                    if self.on_disk_full is not None:
                        self.on_disk_full(exc)
                return None
            self._sequence += 1
            self.rows_written += len(rows)
            self.shards_written += 1
            return final

    def start(self) -> ShardSink:
        """Flush every ``flush_interval`` seconds in the background (a greenlet under gevent's patching)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"recorder-{self.worker}", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self.flush()
        if self.error is not None and self.pending():
            raise HarnessError(
                f"the recorder could not write to {self.directory} ({self.error}); "
                f"{self.pending()} rows were not saved, the {self.rows_written} rows already written stay readable"
            )


class RequestRecorder:
    """Turns ``events.request`` calls into request rows."""

    def __init__(
        self,
        sink: RecordSink,
        *,
        vendor: str = "",
        scenario: str = "",
        worker: str | None = None,
        clock: Clock | None = None,
        registry: SecretRegistry = REGISTRY,
    ) -> None:
        self.sink = sink
        self.vendor = vendor
        self.scenario = scenario
        self.worker = worker or sink.worker
        self.clock = clock or SystemClock()
        self.registry = registry

    def on_request(
        self,
        request_type: str = "",
        name: str = "",
        response_time: float | None = None,
        response_length: int | None = None,
        response: Any = None,
        context: Mapping[str, Any] | None = None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        url: str | None = None,
        **_: Any,
    ) -> None:
        self.sink.append_values(
            self.row(name, response_time, response_length, response, context or {}, exception, start_time)
        )

    def row(
        self,
        name: str,
        response_time: float | None,
        response_length: int | None,
        response: Any,
        ctx: Mapping[str, Any],
        exception: BaseException | None,
        start_time: float | None,
    ) -> tuple[Any, ...]:
        """One request as a tuple in ``REQUEST_SCHEMA`` order (see ``REQUEST_COLUMNS``)."""
        latency_ms = float(response_time or 0.0)
        started_at = float(start_time) if start_time is not None else self.clock.now() - latency_ms / 1000
        ended_at = started_at + latency_ms / 1000
        scheduled = ctx.get("scheduled_at")
        scheduled_at = float(scheduled) if isinstance(scheduled, int | float) else None
        status = ctx.get("http_status")
        if status is None:
            status = getattr(response, "status_code", 0) or 0
        outcome = ctx.get("outcome") or ("ok" if exception is None else "failed")
        ok = outcome == "ok"
        error_kind = ctx.get("error_kind") or ("none" if ok else ("http" if status else "transport"))
        error_code = ctx.get("error_code") or (None if ok else (str(status) if status else type(exception).__name__))
        error_text = ctx.get("error_text") or (None if ok or exception is None else str(exception))
        return (
            scheduled_at,
            started_at,
            ended_at,
            latency_ms,
            (ended_at - scheduled_at) * 1000 if scheduled_at is not None else latency_ms,
            ctx.get("operation") or name,
            name,
            int(status),
            ok,
            outcome,
            error_kind,
            None if error_code is None else self.registry.redact(str(error_code)),
            None if error_text is None else self.registry.redact(str(error_text))[:MAX_ERROR_TEXT],
            int(ctx.get("bytes_sent") or 0),
            int(response_length or 0),
            ctx.get("correlation_id"),
            ctx.get("vendor_message_id"),
            ctx.get("worker") or self.worker,
            ctx.get("vendor") or self.vendor,
            ctx.get("scenario") or self.scenario,
            ctx.get("phone_number_id"),
        )

    # Locust's EventHook shape, so the httpx executors can report straight into the recorder.
    def fire(self, **kwargs: Any) -> None:
        self.on_request(**kwargs)

    def close(self) -> None:
        self.sink.close()


def install_recorder(
    environment: Any,
    run_dir: Path,
    *,
    vendor: str = "",
    scenario: str = "",
    worker: str | None = None,
    flush_interval: float = 1.0,
) -> RequestRecorder:
    """Attach a recorder to a Locust ``Environment``: listen to requests, flush in the background, close at stop.

    Call it from ``events.init`` on every process that sends requests (workers and local runners; a master sends
    none, so its sink stays empty and writes nothing).

    A full disk stops this process's load: the process exits with ``LOCUST_EXIT_DISK_FULL`` (a worker tells its
    master it quit, as on any shutdown) and the runner reports the disk, not a Locust failure.
    """
    runner = getattr(environment, "runner", None)
    if worker is None:
        index = getattr(runner, "worker_index", None)
        worker = f"w{index}-{default_worker_id()}" if isinstance(index, int) and index >= 0 else default_worker_id()

    def _disk_full(exc: OSError) -> None:
        log.error(
            "the disk holding %s is full (%s): stopping the load; the shards already written stay readable",
            run_dir,
            exc,
        )
        environment.process_exit_code = LOCUST_EXIT_DISK_FULL
        current = getattr(environment, "runner", None)
        if current is not None:
            import gevent

            # In its own greenlet: quitting closes the sink, which joins the flush loop this is called from.
            gevent.spawn(current.quit)

    sink = ShardSink(run_dir / REQUESTS_DIR, worker, flush_interval=flush_interval, on_disk_full=_disk_full).start()
    recorder = RequestRecorder(sink, vendor=vendor, scenario=scenario)
    environment.events.request.add_listener(recorder.on_request)

    def _close(**_: Any) -> None:
        try:
            sink.close()
        except HarnessError as exc:
            if sink.disk_full is None:
                raise
            log.error("%s", exc)  # already reported through the exit code; nothing more to do here

    environment.events.test_stop.add_listener(lambda **_: sink.flush())
    environment.events.quitting.add_listener(_close)
    return recorder


def read_requests(run_dir: Path) -> pa.Table:
    """All request shards of a run as one table (temporary files of an interrupted flush are not shards)."""
    shards = sorted((run_dir / REQUESTS_DIR).glob("*.parquet"))
    tables = [_with_schema(pq.read_table(shard)) for shard in shards]
    return pa.concat_tables(tables) if tables else REQUEST_SCHEMA.empty_table()


def _with_schema(table: pa.Table) -> pa.Table:
    """A shard in ``REQUEST_SCHEMA``: columns added since it was written (``phone_number_id``) read as nulls."""
    columns = [
        table.column(name).cast(REQUEST_SCHEMA.field(name).type)
        if name in table.column_names
        else pa.nulls(table.num_rows, REQUEST_SCHEMA.field(name).type)
        for name in REQUEST_SCHEMA.names
    ]
    return pa.Table.from_arrays(columns, schema=REQUEST_SCHEMA)
