"""Rows spilled from memory to Parquet segments on disk by a background thread (the ledger and the webhook
attempt log both use it).

The owner keeps its newest rows in memory and hands a full batch to ``SegmentSpill.hand_off``; a thread converts
it to Arrow and writes one segment file (converting and writing 200k rows takes about half a second, which on the
event loop would be a latency spike in the middle of a trial). Rows being written stay visible through
``snapshot`` until their segment is on disk, so an export never misses them. A write that fails (disk full, folder
gone) keeps its rows: they stay in ``snapshot`` and go into the next hand-off, ``failed`` says why, and the owner
may take them back (``take_unwritten``) and stop spilling.

Segment names carry the start time and the pid, so a shared or reused folder never mixes two processes' files.
With no folder given, a temporary one is created on the first hand-off and removed by ``close``; a given folder
keeps its segments after ``close``, so the rows can be read after the mock stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

T = TypeVar("T")

log = logging.getLogger("mocks.whatsapp.segments")


class SegmentSpill(Generic[T]):
    def __init__(
        self,
        *,
        prefix: str,
        spill_dir: str | Path | None,
        to_table: Callable[[list[T]], pa.Table],
        newest: Callable[[list[T]], float],
    ) -> None:
        self.prefix = prefix
        self.owns_dir = spill_dir is None
        self._dir = Path(spill_dir) if spill_dir else None
        self._to_table = to_table
        self._newest = newest
        self._stem = f"{prefix}-{int(time.time())}-{os.getpid()}"
        self._count = 0  # segment files ever named; never reused, so a reset cannot overwrite a reader's file
        self._segments: list[tuple[Path, float]] = []  # (file, newest time of a row in it)
        self._writing: list[T] = []  # rows handed to the writer thread, not yet in a segment
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self.rows = 0  # rows in segments on disk
        self.failed: str | None = None  # why the last write failed (its rows are still in ``_writing``)

    @property
    def directory(self) -> Path | None:
        return self._dir

    def _ensure_dir(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix=f"scrmbench-{self.prefix}-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        return self._dir

    def hand_off(self, rows: list[T]) -> None:
        """Write ``rows`` (plus any a failed write left behind) to a new segment in the background.

        Waits for the previous write first. Raises ``OSError`` when the folder cannot be created; the rows are
        then not taken (the caller still holds them).
        """
        self.wait()
        path = self._ensure_dir() / f"{self._stem}-{self._count:06d}.parquet"
        self._count += 1
        with self._lock:
            batch = [*self._writing, *rows]
            self._writing = batch
        self._writer = threading.Thread(target=self._write, args=(path, batch), daemon=True)
        self._writer.start()

    def _write(self, path: Path, rows: list[T]) -> None:
        try:
            pq.write_table(self._to_table(rows), path)
        except (OSError, pa.ArrowException) as exc:
            path.unlink(missing_ok=True)
            with self._lock:
                self.failed = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("could not write %s rows to %s: %s; they stay in memory", self.prefix, path, self.failed)
            return
        with self._lock:
            self._segments.append((path, self._newest(rows)))
            self.rows += len(rows)
            self._writing = []
            self.failed = None

    def wait(self) -> None:
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def take_unwritten(self) -> list[T]:
        """The rows of a failed write, handed back to the owner (who then holds them in memory again)."""
        self.wait()
        with self._lock:
            rows, self._writing = self._writing, []
        return rows

    def snapshot(self) -> tuple[list[tuple[Path, float]], list[T]]:
        """The segments on disk and the rows not yet in one, consistently (the writer may finish meanwhile)."""
        with self._lock:
            return list(self._segments), list(self._writing)

    @property
    def size(self) -> int:
        """Rows in segments or being written to one."""
        with self._lock:
            return self.rows + len(self._writing)

    def reset(self) -> None:
        """Forget every segment and delete its file (``POST /_mock/reset``)."""
        self.wait()
        with self._lock:
            segments, self._segments = self._segments, []
            self._writing = []
            self.rows = 0
            self.failed = None
        for path, _ in segments:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """A temporary folder is removed with its segments; a given folder keeps them (the owner should hand off
        its last rows with ``hand_off`` + ``wait`` before)."""
        self.wait()
        if self.owns_dir:
            self.reset()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
