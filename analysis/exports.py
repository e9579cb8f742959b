"""The files a scored run leaves beside its records: ``summary.json`` and the headline tables as CSV.

``write_exports(run_dir, summary)`` writes ``summary.json`` (docs/summary-schema.md) and ``summary-requests.csv``,
``summary-criteria.csv``, ``summary-accounting.csv``, ``summary-recovery.csv``; a table with no rows writes no
file. ``scrmbench score`` and the runner both call it, so the two never differ.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    tmp.replace(path)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def operation_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    items = [("(all)", summary["requests"]["overall"]), *summary["requests"]["by_operation"].items()]
    for name, s in items:
        lat = s["latency_ms"]
        rows.append(
            {
                "operation": name,
                "count": s["count"],
                "ok": s["ok"],
                "errors": s["errors"],
                "dropped_slots": s["dropped_slots"],
                "error_rate": s["error_rate"],
                "throughput_rps": s["throughput_rps"],
                **{f"{k}_ms": lat[k] for k in ("p50", "p90", "p95", "p99", "p99_9", "max")},
            }
        )
    return rows


def criteria_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    keys = (
        "id",
        "metric",
        "aggregation",
        "comparison",
        "target",
        "warn",
        "measured",
        "unit",
        "samples",
        "status",
        "points",
        "weight",
        "critical",
        "reason",
        "source",
    )
    return [{k: c[k] for k in keys} for c in (summary["sla"] or {}).get("criteria", [])]


ACCOUNTING_KEYS = (
    "measured",
    "attempted",
    "acked",
    "failed",
    "indeterminate",
    "delivered",
    "acked_delivered",
    "delivered_once",
    "lost",
    "duplicated",
    "duplicate_copies",
    "unexpected",
    "recovered",
    "unresolved",
    "delivered_after_fail",
    "loss_rate",
    "loss_upper_95",
    "duplicate_rate",
)


def accounting_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row: the end-to-end accounting counts, with the delivery latency percentiles."""
    acc = summary["accounting"]
    row = {k: acc.get(k) for k in ACCOUNTING_KEYS}
    low, high = acc.get("loss_rate_ci95") or (None, None)
    row.update(loss_rate_ci95_low=low, loss_rate_ci95_high=high)
    latency = acc.get("delivery_latency_ms") or {}
    row.update({f"delivery_{k}_ms": latency.get(k) for k in ("p50", "p95", "p99", "max")})
    return [row]


RECOVERY_KEYS = (
    "fault_id",
    "fault",
    "target",
    "injected_ok",
    "injected_s",
    "cleared_s",
    "duration_s",
    "ttd_s",
    "ttr_first_s",
    "ttr_sustained_s",
    "recovered",
    "ttr_lower_bound_s",
    "ttr_first_from_clear_s",
    "ttr_sustained_from_clear_s",
    "flaps",
    "outage_s",
    "errors_during_fault",
    "lost_messages",
)


def recovery_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per injected fault: detection, first success, sustained recovery, flaps, loss and its span."""
    rows = []
    for fault in summary["recovery"]["faults"]:
        row = {k: fault.get(k) for k in RECOVERY_KEYS}
        point = fault.get("recovery_point") or {}
        row["recovery_point_span_s"] = point.get("span_s")
        rows.append(row)
    return rows


def write_exports(run_dir: Path, summary: dict[str, Any]) -> None:
    """summary.json and the CSV tables beside it (a table with no rows, e.g. no fault, writes no file)."""
    write_json(run_dir / "summary.json", summary)
    write_csv(run_dir / "summary-requests.csv", operation_rows(summary))
    write_csv(run_dir / "summary-criteria.csv", criteria_rows(summary))
    write_csv(run_dir / "summary-accounting.csv", accounting_rows(summary))
    write_csv(run_dir / "summary-recovery.csv", recovery_rows(summary))
