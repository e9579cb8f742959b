"""The candidate's memory, when observable: RSS of the processes the run started, sampled into
``resources.jsonl`` (one line per process per sample: ``at``, ``process``, ``pid``, ``rss_bytes``).

Only processes the harness started on this machine can be observed; a remote SaaS candidate's memory cannot,
and the manifest says so.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import psutil

from ground.services import ServiceProcess


class ResourceSampler:
    def __init__(self, processes: dict[str, ServiceProcess], path: Path, *, interval_s: float) -> None:
        self.processes = processes
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scrmbench-resources", daemon=True)

    def sample_once(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        now = time.time()
        for name, service in self.processes.items():
            if service.process is None or not service.alive():
                continue
            try:
                root = psutil.Process(service.pid)
                # The service's whole process group: uvicorn workers and helpers count towards its memory.
                rss = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
            except psutil.Error:
                continue
            rows.append({"at": now, "process": name, "pid": service.pid, "rss_bytes": rss})
        with open(self.path, "ab") as out:
            for row in rows:
                out.write(orjson.dumps(row) + b"\n")
        return rows

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self.interval_s)

    def start(self) -> ResourceSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
