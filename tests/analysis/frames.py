"""Hand-built frames for golden tests: every column of the record schemas with plain defaults."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from ground.records import HEALTH_SCHEMA, LEDGER_SCHEMA, REQUEST_SCHEMA, VENDOR_EVENT_SCHEMA, WEBHOOK_ATTEMPT_SCHEMA

T0 = 1_700_000_000.0


def _frame(schema: pa.Schema, rows: list[dict[str, Any]], defaults: dict[str, Any]) -> pd.DataFrame:
    full = [{name: row.get(name, defaults.get(name)) for name in schema.names} for row in rows]
    return pa.Table.from_pylist(full, schema=schema).to_pandas()


def request(
    t: float, latency_ms: float = 100.0, *, ok: bool = True, outcome: str | None = None, **kw: Any
) -> dict[str, Any]:
    """One request record whose slot and start are ``T0 + t``."""
    outcome = outcome or ("ok" if ok else "failed")
    row = {
        "scheduled_at": T0 + t,
        "started_at": T0 + t,
        "ended_at": T0 + t + latency_ms / 1000.0,
        "latency_ms": latency_ms,
        "corrected_latency_ms": latency_ms,
        "ok": ok and outcome == "ok",
        "outcome": outcome,
        "status": 202 if ok else 500,
        "error_kind": "none" if ok else "http",
    }
    if outcome == "dropped":
        row.update(
            started_at=None,
            ended_at=None,
            latency_ms=None,
            corrected_latency_ms=None,
            status=0,
            error_kind="dropped",
            ok=False,
        )
    row.update(kw)
    return row


def requests(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _frame(
        REQUEST_SCHEMA,
        rows,
        {
            "operation": "send_text",
            "name": "send",
            "vendor": "v",
            "scenario": "s",
            "worker": "w0",
            "bytes_sent": 0,
            "bytes_received": 0,
        },
    )


def ledger(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _frame(LEDGER_SCHEMA, rows, {"direction": "outbound", "phone_number_id": "1", "type": "text"})


def arrival(token: str, t: float, **kw: Any) -> dict[str, Any]:
    return {"arrived_at": T0 + t, "wamid": f"wamid.{token}.{t}", "correlation_id": token, **kw}


def attempts(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return _frame(WEBHOOK_ATTEMPT_SCHEMA, rows, {"kind": "message", "attempt": 0, "http_status": 200, "outcome": "ok"})


def health(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Health samples (``HEALTH_SCHEMA``); ``at`` given relative to ``T0``."""
    full = [{**row, "at": T0 + row["at"]} for row in rows]
    return _frame(HEALTH_SCHEMA, full, {"pid": None})


def sample(t: float, source: str, role: str, metric: str, value: float, pid: int | None = 1) -> dict[str, Any]:
    return {
        "at": t,
        "source": source,
        "role": role,
        "pid": None if role == "machine" else pid,
        "metric": metric,
        "value": value,
    }


def vendor_events(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Callbacks as the receiver records them (``VENDOR_EVENT_SCHEMA``); ``received_at`` relative to ``T0``."""
    full = [{**row, "received_at": T0 + row["received_at"]} for row in rows]
    return _frame(VENDOR_EVENT_SCHEMA, full, {"dialect": "twilio"})
