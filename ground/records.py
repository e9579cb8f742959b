"""Record formats shared by the recorder, the mock's ledger export and the analysis (design.md, "Records").

Times are wall-clock Unix seconds as float64 on one clock (the machine's), so requests, ledger rows and fault
events join without conversion. Durations are milliseconds as float64.

A results folder ``results/<run-id>/`` holds:

    manifest.json         RunManifest
    requests/*.parquet    REQUEST_SCHEMA, one shard file per worker per flush
    ledger.parquet        LEDGER_SCHEMA   (messages that reached the mock WhatsApp API)
    webhooks.parquet      WEBHOOK_ATTEMPT_SCHEMA (every webhook POST the mock made)
    faults.jsonl          one FaultEvent per line
    agents/*.parquet      AGENT_EVENT_SCHEMA (contact-centre runs: what the simulated agents saw and did, and the
                          tagged segment; one shard file per worker per flush, like the requests)
    health.parquet        HEALTH_SCHEMA   (the harness, the mock and the candidate watched, once a second; while
                          the run is going, shards in health/*.parquet, merged at its end)
    vendor_events.parquet VENDOR_EVENT_SCHEMA (what the vendor reported through its status callbacks; while the run
                          is going, shards in vendor_events/*.parquet, merged at its end)
    summary.json          written by analysis
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

REQUEST_SCHEMA = pa.schema(
    [
        ("scheduled_at", pa.float64()),  # open model: the slot's intended start; null in closed model
        ("started_at", pa.float64()),
        ("ended_at", pa.float64()),
        ("latency_ms", pa.float64()),  # ended_at - started_at
        ("corrected_latency_ms", pa.float64()),  # ended_at - scheduled_at (open model), else = latency_ms
        ("operation", pa.string()),  # adapter operation: send_text, upload_media, customer_message, ...
        ("name", pa.string()),  # stats name (Locust grouping)
        ("status", pa.int32()),  # HTTP status, 0 for transport error / timeout / dropped slot
        ("ok", pa.bool_()),
        ("outcome", pa.string()),  # ok | failed | indeterminate | dropped
        ("error_kind", pa.string()),  # none | http | body | timeout | transport | dropped
        ("error_code", pa.string()),
        ("error_text", pa.string()),
        ("bytes_sent", pa.int64()),
        ("bytes_received", pa.int64()),
        ("correlation_id", pa.string()),
        ("vendor_message_id", pa.string()),
        ("worker", pa.string()),
        ("vendor", pa.string()),
        ("scenario", pa.string()),
        # The business number the request went out from (a send) or was written to (a customer message): its Cloud
        # API phone-number id, else its digits (plan.numbers); null for other calls and in runs before it was kept.
        ("phone_number_id", pa.string()),
    ]
)
REQUEST_COLUMNS = tuple(REQUEST_SCHEMA.names)

OUTCOMES = ("ok", "failed", "indeterminate", "dropped")
ERROR_KINDS = ("none", "http", "body", "timeout", "transport", "dropped")

LEDGER_SCHEMA = pa.schema(
    [
        ("arrived_at", pa.float64()),  # wall clock at the mock
        ("arrived_monotonic", pa.float64()),
        ("wamid", pa.string()),
        ("direction", pa.string()),  # outbound (vendor -> WhatsApp) | inbound (customer -> vendor)
        ("phone_number_id", pa.string()),
        ("recipient", pa.string()),  # wa_id or BSUID of the customer
        ("type", pa.string()),
        ("size_bytes", pa.int64()),
        ("correlation_id", pa.string()),
        ("context_message_id", pa.string()),
        ("reply_to_wamid", pa.string()),  # inbound message this outbound one answers, when linked
        ("inbound_delivered_at", pa.float64()),  # when the linked inbound webhook was acknowledged
        ("biz_opaque_callback_data", pa.string()),
        # What the traffic costs (docs/whatsapp-2026.md §6-7), outbound rows; older ledgers read them as nulls.
        ("wa_id", pa.string()),  # the customer's phone number, also when the send used a BSUID
        ("category", pa.string()),  # marketing | utility | authentication | service
        ("billable", pa.bool_()),  # the status webhooks' pricing.billable
        ("pricing_type", pa.string()),  # regular | free_customer_service | free_entry_point
        ("async_error_code", pa.int32()),  # the code of the failed status the mock sent for it (never delivered)
    ]
)
LEDGER_COLUMNS = tuple(LEDGER_SCHEMA.names)

WEBHOOK_ATTEMPT_SCHEMA = pa.schema(
    [
        ("sent_at", pa.float64()),
        ("delivery_id", pa.string()),
        ("kind", pa.string()),  # message | status
        ("wamids", pa.string()),  # comma-separated wamids carried in this POST
        ("attempt", pa.int32()),  # 0 for the first try
        ("callback_url", pa.string()),
        ("http_status", pa.int32()),  # 0 when no answer
        ("response_ms", pa.float64()),
        ("outcome", pa.string()),  # ok | http_error | timeout | connect_error
        ("error", pa.string()),
        # The status of each wamid of a status POST, comma-separated in the order of ``wamids`` (the mock's status
        # ladder: the truth a vendor's own reports are checked against); empty for message POSTs, null in older files.
        ("statuses", pa.string()),
    ]
)
WEBHOOK_ATTEMPT_COLUMNS = tuple(WEBHOOK_ATTEMPT_SCHEMA.names)

# What the simulated agents of a contact-centre run saw and did (harness.loadgen.agents), and the tagged segment.
# ``event``: online, online_refused, offline, assigned (an inbox read showed a new assignment), replied, closed,
# tagged (a contact was tagged for the segment), broadcast (the segment broadcast was started), sweep (an agent's
# last inbox read: the end of the window in which assignments were watched).
AGENT_EVENT_SCHEMA = pa.schema(
    [
        ("at", pa.float64()),  # the harness's wall clock when it happened or was seen
        ("worker", pa.string()),
        ("agent", pa.string()),  # the agent's name at the vendor ("" for segment events)
        ("event", pa.string()),
        ("conversation_id", pa.string()),  # the vendor's id of the conversation
        ("customer", pa.string()),  # the customer's wa_id
        ("correlation_id", pa.string()),  # the customer's token (assigned, replied, closed); the broadcast's token
        ("vendor_at", pa.float64()),  # the vendor's own time of the event (an assignment's time), when it says
        ("ok", pa.bool_()),  # the vendor accepted the action (online, reply, close, tag, broadcast)
        ("detail", pa.string()),  # the tag, the cap, or why an action failed
    ]
)
AGENT_EVENT_COLUMNS = tuple(AGENT_EVENT_SCHEMA.names)
AGENT_EVENTS = ("online", "online_refused", "offline", "assigned", "replied", "closed", "tagged", "broadcast", "sweep")

# One sample of one figure of one watched process (or of the machine), long format so a new figure is a new value
# of ``metric``, never a schema change. ``docs/summary-schema.md`` lists the metrics and their units.
HEALTH_SCHEMA = pa.schema(
    [
        ("at", pa.float64()),  # wall-clock Unix seconds (the run clock)
        ("source", pa.string()),  # machine | runner | mock | mock-shard-N | vendor | front | proxy | local | worker-N
        ("role", pa.string()),  # machine | harness | mock | candidate
        ("pid", pa.int64()),  # null for the machine and for containers
        ("metric", pa.string()),  # cpu_pct, rss_bytes, threads, fds, loop_lag_ms_p95, start_lateness_ms_p95, ...
        ("value", pa.float64()),
    ]
)
HEALTH_COLUMNS = tuple(HEALTH_SCHEMA.names)

# One status callback (or inbound-message webhook) a hosted vendor sent to the run's callback receiver, as the vendor
# reported it: never verified by the receiver beyond its signature. ``harness.callbacks`` writes it.
VENDOR_EVENT_SCHEMA = pa.schema(
    [
        ("received_at", pa.float64()),  # wall clock when the receiver accepted the callback (the run clock)
        ("reported_at", pa.float64()),  # the vendor's own timestamp of the status, when the body carries one
        ("dialect", pa.string()),  # twilio | cloud-api | wati | generic
        ("vendor_message_id", pa.string()),  # the id the vendor answered the send with (Twilio SM..., a wamid, ...)
        ("correlation_id", pa.string()),  # the run's token, where the vendor echoes it (biz_opaque_callback_data)
        ("status", pa.string()),  # normalised: queued | sent | delivered | read | failed | inbound | other
        ("vendor_status", pa.string()),  # as the vendor wrote it (undelivered, DELIVERED, ...)
        ("error_code", pa.string()),  # the vendor's error code of a failed status
        ("recipient", pa.string()),
    ]
)
VENDOR_EVENT_COLUMNS = tuple(VENDOR_EVENT_SCHEMA.names)
REPORTED_STATUSES = ("queued", "sent", "delivered", "read", "failed", "inbound", "other")
HEALTH_ROLES = ("machine", "harness", "mock", "candidate")

FaultAction = Literal["inject", "clear", "error", "note"]


class FaultEvent(BaseModel):
    """One line of ``faults.jsonl``."""

    model_config = ConfigDict(extra="forbid")

    at: float  # wall-clock Unix seconds; for an inject or clear, when the action started
    action: FaultAction
    fault: str  # registered fault name, e.g. "process-kill"
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    fault_id: str = ""  # pairs an inject with its clear
    ok: bool = True
    detail: str = ""
    ended_at: float | None = None  # when the inject or clear returned (a process kill may wait seconds)


class RunManifest(BaseModel):
    """``manifest.json``: what was run, against what, when, and whether the run completed."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = 1
    run_id: str
    run_tag: str = ""
    scenario: str
    scenario_params: dict[str, Any] = Field(default_factory=dict)
    vendor: dict[str, Any] = Field(default_factory=dict)  # profile, secrets redacted
    sla: str | None = None
    seed: int | None = None
    load_model: Literal["open", "closed"] = "open"
    versions: dict[str, str] = Field(default_factory=dict)
    host: dict[str, Any] = Field(default_factory=dict)
    started_at: float
    ended_at: float | None = None
    complete: bool = False
    workers: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    unmeasured: dict[str, str] = Field(default_factory=dict)  # figure -> why it could not be measured


_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def is_safe_run_id(run_id: str) -> bool:
    """A run id is a plain file name: no separators, no '..', no leading dot."""
    return bool(_RUN_ID.fullmatch(run_id)) and ".." not in run_id


class RecordSink(Protocol):
    """Where one process's records go (design.md, seams: "Recorder sink"): append rows, flush, close.

    ``append_values`` is the hot path (a tuple in the schema's column order, no dict per request); ``flush`` writes
    what is buffered and returns where it went (None: nothing written); ``close`` flushes the rest and stops.
    ``harness.recorder.ShardSink`` writes Parquet shards; :class:`MemorySink` keeps rows in memory for tests.
    """

    @property
    def worker(self) -> str: ...

    def append(self, row: Mapping[str, Any]) -> None: ...

    def append_values(self, values: tuple[Any, ...]) -> None: ...

    def flush(self) -> Path | None: ...

    def close(self) -> None: ...


class MemorySink:
    """A ``RecordSink`` that keeps its rows as dicts of the schema's columns (tests, and nothing written to disk)."""

    def __init__(self, schema: pa.Schema = REQUEST_SCHEMA, worker: str = "memory") -> None:
        self._columns = tuple(schema.names)
        self._worker = worker
        self._lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []
        self.flushes = 0
        self.closed = False

    @property
    def worker(self) -> str:
        return self._worker

    def append(self, row: Mapping[str, Any]) -> None:
        self.append_values(tuple(row.get(name) for name in self._columns))

    def append_values(self, values: tuple[Any, ...]) -> None:
        with self._lock:
            self.rows.append(dict(zip(self._columns, values, strict=True)))

    def flush(self) -> Path | None:
        self.flushes += 1
        return None

    def close(self) -> None:
        self.flush()
        self.closed = True
