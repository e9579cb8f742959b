"""Serving the mock: one process, or N processes sharded by phone number id.

Sharding design (``--workers N``): shard i listens on ``port + i`` and owns the phone numbers whose position in
``config.phone_numbers`` is i modulo N. A phone number's limiters, ledger rows and media therefore live in
exactly one process, so limits stay exact without shared memory or locks. Clients get full speed by sending each
number's traffic to its shard's port (the map is printed at start and served at ``GET /_mock/shards``); a request
for a number another shard owns is forwarded there (correct, one extra hop). The control plane of any shard fans
writes (reset, faults, limits) out to all shards and merges reads (ledger, events, stats), so the harness can
keep talking to the base port only.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn

from ground.errors import ConfigError
from ground.heap import HeapKeeper, reclaim
from mocks.whatsapp.app import MockPlugin, create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.fault_middleware import ConnectionDropped


class _DropFilter(logging.Filter):
    """Injected connection drops are on purpose; do not log a traceback for each one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def serve_single(config: MockConfig, plugins: Sequence[MockPlugin] | None = None) -> None:
    serve_app(create_app(config, plugins=plugins), config)


def serve_app(app: Any, config: MockConfig) -> None:
    """Serve an app built by ``create_app`` (benchmarks may add a route first) with the mock's server settings."""
    logging.getLogger("uvicorn.error").addFilter(_DropFilter())
    mock = getattr(getattr(app, "state", None), "mock", None)
    if mock is not None and config.heap_freeze_interval_s > 0:
        # The ledger's entries live until a reset: keep the collector from walking them again and again (ground/heap).
        mock.on_reset.append(reclaim)
        HeapKeeper(config.heap_freeze_interval_s).start()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
        backlog=4096,
    )


def shard_configs(config: MockConfig, workers: int) -> list[MockConfig]:
    if workers > len(config.phone_numbers):
        raise ConfigError(
            f"{workers} workers need at least {workers} phone numbers to shard by (one owner per number)",
            field="phone_numbers",
            value=len(config.phone_numbers),
            fix=f"list at least {workers} phone numbers in the config, or use fewer --workers",
        )
    if config.port == 0:
        raise ConfigError("sharded serving needs a fixed base port", field="--port", value=0, fix="give --port")
    ports = [config.port + index for index in range(workers)]
    return [
        config.model_copy(update={"port": port, "shard_index": i, "shard_ports": ports}) for i, port in enumerate(ports)
    ]


def owner_index(config: MockConfig, phone_number_id: str) -> int:
    shards = max(1, len(config.shard_ports))
    for position, number in enumerate(config.phone_numbers):
        if number.id == phone_number_id:
            return position % shards
    return config.shard_index


def serve_sharded(config: MockConfig, workers: int) -> None:
    configs = shard_configs(config, workers)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=serve_single, args=(shard,), name=f"mock-shard-{shard.shard_index}") for shard in configs
    ]
    for process in processes:
        process.start()
    for shard in configs:
        owned = [n.id for i, n in enumerate(config.phone_numbers) if i % workers == shard.shard_index]
        print(f"shard {shard.shard_index}: http://{config.host}:{shard.port} owns {', '.join(owned)}", flush=True)
    stopping = {"now": False}

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping["now"] and all(process.is_alive() for process in processes):
            time.sleep(0.2)  # supervising child processes, not faking behaviour
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    if not stopping["now"]:
        sys.exit(3)
