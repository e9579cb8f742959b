"""Write a realistic synthetic results folder (for tests, demos and the scale benchmark; no servers needed).

The run it writes has, by construction: an open-model send_text load at ``rate`` per second, latency that
grows linearly (``base_ms`` → ``base_ms + drift_ms``), a failover fault from ``fault_at_s`` for
``fault_s`` seconds during which sends time out or get 503s, ``lost`` acknowledged messages that never reach
the ledger (sent just before the fault), ``duplicated`` messages delivered twice, a number of customer messages
answered with a known reply latency, and webhook attempts with a known acknowledgement latency. Every number
is returned in ``SyntheticRun`` so tests can assert the analysis finds exactly it.

Only ``ground.records`` schemas are used, so the folder looks like the recorder's and the mock's output.

``synthetic_health`` builds the harness's health samples of such a run (once a second: the machine, the Locust
process ``local``, the mock, the candidate ``vendor``), healthy unless told which part was saturated when;
``write_health`` puts them in ``health.parquet`` and/or ``health/*.parquet`` shards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ground.records import (
    HEALTH_SCHEMA,
    LEDGER_SCHEMA,
    REQUEST_SCHEMA,
    WEBHOOK_ATTEMPT_SCHEMA,
    FaultEvent,
    RunManifest,
)

T0 = 1_800_000_000.0


@dataclass(frozen=True)
class SyntheticRun:
    path: Path
    requests: int
    acked: int
    lost: int
    duplicated: int
    failed: int
    indeterminate: int
    recovered: int
    inbound: int
    reply_ms: float
    fault_at: float
    fault_clear_at: float


def _token(prefix: str, index: np.ndarray) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(index.astype(str), 9)).astype(object)


def _request_table(
    idx: np.ndarray, p: dict[str, float], rng: np.random.Generator
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    rate, fault_at, fault_s = p["rate"], p["fault_at_s"], p["fault_s"]
    scheduled = T0 + idx / rate
    progress = idx / max(1.0, p["n"] - 1)
    latency = p["base_ms"] + p["drift_ms"] * progress + rng.exponential(p["base_ms"] / 4, idx.size)
    in_fault = (scheduled >= T0 + fault_at) & (scheduled < T0 + fault_at + fault_s)
    # During the failover: every third send times out (indeterminate), the rest get a 503 (failed).
    timeout = in_fault & (idx % 3 == 0)
    latency = np.where(timeout, 10_000.0, latency)
    ok = ~in_fault
    outcome = np.where(ok, "ok", np.where(timeout, "indeterminate", "failed"))
    n = idx.size
    columns = {
        "scheduled_at": scheduled,
        "started_at": scheduled,
        "ended_at": scheduled + latency / 1000.0,
        "latency_ms": latency,
        "corrected_latency_ms": latency,
        "operation": np.full(n, "send_text", dtype=object),
        "name": np.full(n, "POST /api/messages", dtype=object),
        "status": np.where(ok, 202, np.where(timeout, 0, 503)).astype("int32"),
        "ok": ok,
        "outcome": outcome.astype(object),
        "error_kind": np.where(ok, "none", np.where(timeout, "timeout", "http")).astype(object),
        "error_code": np.where(ok, "", np.where(timeout, "timeout", "503")).astype(object),
        "error_text": np.where(ok, "", "upstream unavailable").astype(object),
        "bytes_sent": np.full(n, 120, dtype="int64"),
        "bytes_received": np.full(n, 40, dtype="int64"),
        "correlation_id": _token("syn-", idx),
        "vendor_message_id": _token("msg_", idx),
        "worker": np.where(idx % 2 == 0, "w0", "w1").astype(object),
        "vendor": np.full(n, "synthetic", dtype=object),
        "scenario": np.full(n, "failover", dtype=object),
        "phone_number_id": np.full(n, "100000000000001", dtype=object),
    }
    return pa.Table.from_pydict(columns, schema=REQUEST_SCHEMA), {"ok": ok, "timeout": timeout, "scheduled": scheduled}


def _ledger_table(idx: np.ndarray, info: dict[str, np.ndarray], lost_ids: np.ndarray, dup_ids: np.ndarray) -> pa.Table:
    # Acked and not chosen as lost → delivered delivery_ms after its slot; the timeouts with an even index got through.
    recovered = info["timeout"] & (idx % 2 == 0)
    delivered = (info["ok"] & ~np.isin(idx, lost_ids)) | recovered
    rows = np.concatenate([idx[delivered], dup_ids[np.isin(dup_ids, idx[delivered])]])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    arrived = info["scheduled_base"] + rows / info["rate"] + info["delivery_s"]
    n = rows.size
    return pa.Table.from_pydict(
        {
            "arrived_at": arrived,
            "arrived_monotonic": arrived - T0,
            "wamid": _token("wamid.out", rows),
            "direction": np.full(n, "outbound", dtype=object),
            "phone_number_id": np.full(n, "100000000000001", dtype=object),
            "recipient": np.full(n, "4915100000000", dtype=object),
            "type": np.full(n, "text", dtype=object),
            "size_bytes": np.full(n, 60, dtype="int64"),
            "correlation_id": _token("syn-", rows),
            "context_message_id": np.full(n, None, dtype=object),
            "reply_to_wamid": np.full(n, None, dtype=object),
            "inbound_delivered_at": np.full(n, np.nan),
            "biz_opaque_callback_data": np.full(n, None, dtype=object),
            # Pricing as the mock records it (docs/whatsapp-2026.md §6): free-form replies, not charged.
            "wa_id": np.full(n, "4915100000000", dtype=object),
            "category": np.full(n, "service", dtype=object),
            "billable": np.full(n, False),
            "pricing_type": np.full(n, "free_customer_service", dtype=object),
            "async_error_code": np.full(n, None, dtype=object),
        },
        schema=LEDGER_SCHEMA,
    )


def _inbound_tables(count: int, reply_ms: float, duration_s: float) -> tuple[pa.Table, pa.Table]:
    idx = np.arange(count)
    delivered = T0 + (idx + 0.5) * duration_s / max(count, 1)
    wamids = _token("wamid.in", idx)
    inbound = {
        "arrived_at": delivered - 0.05,
        "wamid": wamids,
        "direction": np.full(count, "inbound", dtype=object),
        "inbound_delivered_at": np.full(count, np.nan),
        "reply_to_wamid": np.full(count, None, dtype=object),
    }
    replies = {
        "arrived_at": delivered + reply_ms / 1000.0,
        "wamid": _token("wamid.re", idx),
        "direction": np.full(count, "outbound", dtype=object),
        "inbound_delivered_at": delivered,
        "reply_to_wamid": wamids,
    }
    tables = []
    for cols in (inbound, replies):
        full = {name: cols.get(name, np.full(count, None, dtype=object)) for name in LEDGER_SCHEMA.names}
        full["arrived_monotonic"] = cols["arrived_at"] - T0
        full["size_bytes"] = np.full(count, 30, dtype="int64")
        tables.append(pa.Table.from_pydict(full, schema=LEDGER_SCHEMA))
    attempts = pa.Table.from_pydict(
        {
            "sent_at": delivered - 0.02,
            "delivery_id": _token("d", idx),
            "kind": np.full(count, "message", dtype=object),
            "wamids": wamids,
            "attempt": np.zeros(count, dtype="int32"),
            "callback_url": np.full(count, "http://127.0.0.1:9/webhooks/whatsapp", dtype=object),
            "http_status": np.full(count, 200, dtype="int32"),
            "response_ms": np.full(count, 20.0),
            "outcome": np.full(count, "ok", dtype=object),
            "error": np.full(count, None, dtype=object),
            "statuses": np.full(count, "", dtype=object),
        },
        schema=WEBHOOK_ATTEMPT_SCHEMA,
    )
    return pa.concat_tables(tables), attempts


def write_synthetic_run(
    folder: Path,
    *,
    duration_s: float = 300.0,
    rate: float = 20.0,
    base_ms: float = 100.0,
    drift_ms: float = 200.0,
    fault_at_s: float = 100.0,
    fault_s: float = 20.0,
    lost: int = 3,
    duplicated: int = 2,
    inbound: int = 50,
    reply_ms: float = 1500.0,
    delivery_ms: float = 300.0,
    shards: int = 2,
    seed: int = 7,
    complete: bool = True,
    chunk_rows: int = 1_000_000,
) -> SyntheticRun:
    """Write the run into ``folder`` (created) and return what is in it; see the module docstring."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requests").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate)
    p = {"rate": rate, "fault_at_s": fault_at_s, "fault_s": fault_s, "base_ms": base_ms, "drift_ms": drift_ms, "n": n}
    fault_first = int(np.ceil(fault_at_s * rate))
    lost_ids = np.arange(max(0, fault_first - lost), fault_first)  # the last acked sends before the failover
    dup_ids = np.arange(0, duplicated) * 7 + 1
    counts = {"ok": 0, "timeout": 0, "failed": 0, "recovered": 0}
    ledger_parts = []
    per_shard = int(np.ceil(n / shards))
    for shard in range(shards):
        lo, hi = shard * per_shard, min(n, (shard + 1) * per_shard)
        with pq.ParquetWriter(folder / "requests" / f"w{shard}-000001.parquet", REQUEST_SCHEMA) as writer:
            for start in range(lo, hi, chunk_rows):
                idx = np.arange(start, min(hi, start + chunk_rows))
                table, info = _request_table(idx, p, rng)
                writer.write_table(table)
                counts["ok"] += int(info["ok"].sum())
                counts["timeout"] += int(info["timeout"].sum())
                counts["failed"] += int((~info["ok"] & ~info["timeout"]).sum())
                counts["recovered"] += int((info["timeout"] & (idx % 2 == 0)).sum())
                info.update(
                    {"scheduled_base": np.array(T0), "rate": np.array(rate), "delivery_s": np.array(delivery_ms / 1000)}
                )
                ledger_parts.append(_ledger_table(idx, info, lost_ids, dup_ids))
    inbound_ledger, attempts = _inbound_tables(inbound, reply_ms, duration_s)
    pq.write_table(pa.concat_tables([*ledger_parts, inbound_ledger]), folder / "ledger.parquet")
    pq.write_table(attempts, folder / "webhooks.parquet")
    fault_at, clear_at = T0 + fault_at_s, T0 + fault_at_s + fault_s
    events = [
        FaultEvent(at=fault_at, action="inject", fault="process-kill", target="vendor-a", fault_id="f1"),
        FaultEvent(at=clear_at, action="clear", fault="process-kill", target="vendor-a", fault_id="f1"),
    ]
    (folder / "faults.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")
    manifest = RunManifest(
        run_id=folder.name,
        scenario="failover",
        vendor={"name": "synthetic"},
        started_at=T0,
        ended_at=T0 + duration_s,
        complete=complete,
        load_model="open",
        seed=seed,
        workers=["w0", "w1"],
    )
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return SyntheticRun(
        path=folder,
        requests=n,
        acked=counts["ok"],
        lost=int(lost_ids.size),
        duplicated=int(np.isin(dup_ids, np.setdiff1d(np.arange(n), lost_ids)).sum()),
        failed=counts["failed"],
        indeterminate=counts["timeout"],
        recovered=counts["recovered"],
        inbound=inbound,
        reply_ms=reply_ms,
        fault_at=fault_at,
        fault_clear_at=clear_at,
    )


def manifest_json(folder: Path) -> dict[str, object]:
    return dict(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


# What each watched process reports while healthy, and while saturated (the demo's 2-core machine with six trials).
_HEALTHY = {
    "generator": {"cpu_pct": 35.0, "loop_lag_ms_p95": 2.0, "loop_lag_ms_max": 6.0, "start_lateness_ms_p95": 3.0},
    "mock": {"cpu_pct": 20.0, "loop_lag_ms_p95": 1.0, "loop_lag_ms_max": 4.0, "service_ms_p95": 2.0},
    "machine": {"cpu_busy_pct": 45.0, "run_queue": 1.0},
}
_SATURATED = {
    "generator": {"cpu_pct": 100.0, "loop_lag_ms_p95": 180.0, "loop_lag_ms_max": 400.0, "start_lateness_ms_p95": 60.0},
    "mock": {"cpu_pct": 98.0, "loop_lag_ms_p95": 60.0, "loop_lag_ms_max": 150.0, "service_ms_p95": 90.0},
    "machine": {"cpu_busy_pct": 99.0, "run_queue": 7.0},
}
_SOURCES: dict[str, tuple[str, str, int | None]] = {
    "generator": ("local", "harness", 2001),
    "mock": ("mock", "mock", 2002),
    "machine": ("machine", "machine", None),
}


def synthetic_health(
    *,
    t0: float = T0,
    duration_s: float = 300.0,
    cores: int = 2,
    saturated: str | None = None,
    saturated_at_s: tuple[float, float] = (0.0, 0.0),
    vendor_cpu_pct: float | None = 40.0,
    vendor_busy: tuple[float, float, float] | None = None,
) -> pa.Table:
    """One sample per second (at ``t0 + k + 0.5``) of every watched figure, in ``HEALTH_SCHEMA``.

    ``saturated`` ("generator", "mock" or "machine") is saturated from ``saturated_at_s[0]`` to
    ``saturated_at_s[1]`` (seconds from ``t0``): CPU 100% and loop lag p95 180 ms for the generator, 98% and 60 ms
    for the mock, 99% busy with a run queue of 7 for the machine. The candidate's process uses ``vendor_cpu_pct``
    (None: no candidate process watched, a remote SaaS), ``vendor_busy`` = (from_s, to_s, cpu_pct) in between.
    """
    rows: dict[str, list[object]] = {name: [] for name in HEALTH_SCHEMA.names}

    def add(at: float, source: str, role: str, pid: int | None, metric: str, value: float) -> None:
        for name, item in zip(HEALTH_SCHEMA.names, (at, source, role, pid, metric, value), strict=True):
            rows[name].append(item)

    for k in range(int(np.ceil(duration_s))):
        at = t0 + k + 0.5
        for part, (source, role, pid) in _SOURCES.items():
            hot = saturated == part and saturated_at_s[0] <= k < saturated_at_s[1]
            for metric, value in (_SATURATED if hot else _HEALTHY)[part].items():
                add(at, source, role, pid, metric, value)
        add(at, "machine", "machine", None, "cores", float(cores))
        add(at, "runner", "harness", 2000, "cpu_pct", 5.0)
        if vendor_cpu_pct is not None:
            busy = vendor_busy is not None and vendor_busy[0] <= k < vendor_busy[1]
            add(at, "vendor", "candidate", 3000, "cpu_pct", vendor_busy[2] if busy and vendor_busy else vendor_cpu_pct)
            add(at, "vendor", "candidate", 3000, "rss_bytes", 200e6)
    return pa.Table.from_pydict(rows, schema=HEALTH_SCHEMA)


def write_health(folder: Path, table: pa.Table, *, merged: bool = True, shards: int = 0) -> None:
    """``health.parquet`` with the first part of the rows (all of them when ``shards`` is 0), the rest split over
    ``shards`` files in ``health/`` (a run still going, or one that crashed before merging them)."""
    parts = np.array_split(np.arange(table.num_rows), (1 if merged else 0) + shards)
    if merged:
        pq.write_table(table.take(parts.pop(0)), folder / "health.parquet")
    if shards:
        (folder / "health").mkdir(exist_ok=True)
        for i, part in enumerate(parts):
            pq.write_table(table.take(part), folder / "health" / f"local-{i:06d}.parquet")
