"""What a vendor reported about its messages, and how truthful that was (docs/hosted-vendors.md defines each figure).

A hosted vendor cannot be pointed at the mock, so its loss, delivery and read figures can only come from its own
status callbacks (``vendor_events.parquet``, written by the run's callback receiver). They are **reported by the
vendor, not verified**: ``reported_figures`` computes them, per acknowledged send, by joining each callback to the
send by the vendor's message id (``vendor_message_id``), else by the correlation token where the vendor echoes it.

    reported_sent / _delivered / _read / _failed   acknowledged sends the vendor reported so (delivered counts a
                                                   read too: a read message was delivered)
    unconfirmed                                    acknowledged, never reported delivered, read or failed; with
                                                   its share of the acknowledged and a Wilson 95% interval
    status_latency_ms                              send start → the first delivered (or read) callback received
    failures_by_code                               reported failures by the vendor's error code
    unmatched_events                               callbacks for message ids the run never sent

For a candidate seen end to end (a reference vendor or a facade in front of the mock) ``report_accuracy`` compares
those reports with the truth: the mock's ledger (did the message reach WhatsApp, did it fail there) and its status
ladder (the ``statuses`` of the mock's status webhooks: delivered and read, and when):

    reported_delivered_not_delivered   reported delivered or read, truly not delivered (includes never sent on)
    reports_for_unsent                 any sent/delivered/read report for a message that never reached WhatsApp
    reported_delivered_but_lost        acknowledged, lost (never in the ledger), and reported delivered
    delivered_not_reported             truly delivered, never reported delivered
    reported_read_not_read             reported read, truly not read; ``false_read_share`` = that count over
                                       the truly delivered and unread messages
    read_inflation                     reported read count / true read count
    reported_failed_* / failed_not_reported   the same for failures
    skew_ms                            reported callback time − the mock's status time, for delivered and read

Pure functions of frames; nothing here reads the disk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.accounting import is_send
from analysis.columns import text_present
from analysis.stats import latency_summary, wilson_interval

DELIVERED_LIKE = ("delivered", "read")
SENT_LIKE = ("sent", "delivered", "read")


def _acked_sends(requests: pd.DataFrame) -> pd.DataFrame:
    """One row per acknowledged send: ``correlation_id, vendor_message_id, sent_at``."""
    mask = is_send(requests["operation"]) & requests["ok"].fillna(False).to_numpy(dtype=bool)
    columns = [c for c in ("correlation_id", "vendor_message_id", "scheduled_at", "started_at") if c in requests]
    sends = requests.loc[mask, columns].copy()
    if "vendor_message_id" not in sends:
        sends["vendor_message_id"] = None
    scheduled = sends["scheduled_at"].astype("float64") if "scheduled_at" in sends else np.nan
    sends["sent_at"] = np.where(np.isnan(scheduled), sends["started_at"].astype("float64"), scheduled)
    sends = sends.drop_duplicates("correlation_id", keep="first")
    sends["key"] = np.arange(len(sends))
    chosen: pd.DataFrame = sends[["key", "correlation_id", "vendor_message_id", "sent_at"]].reset_index(drop=True)
    return chosen


def _matched_events(sends: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Events with the ``key`` of their send (by message id, else by token) and the count matching no send."""
    frame = events[["received_at", "vendor_message_id", "correlation_id", "status", "error_code"]].copy()
    by_id = dict(zip(sends["vendor_message_id"].astype("object"), sends["key"], strict=True))
    by_id.pop(None, None)
    by_token = dict(zip(sends["correlation_id"].astype("object"), sends["key"], strict=True))
    ids = frame["vendor_message_id"].astype("object").map(by_id)
    tokens = frame["correlation_id"].astype("object").map(by_token)
    frame["key"] = ids.fillna(tokens)
    unmatched = int(frame["key"].isna().sum())
    frame = frame[frame["key"].notna()].copy()
    frame["key"] = frame["key"].astype("int64")
    return frame, unmatched


def _first(events: pd.DataFrame, statuses: tuple[str, ...], size: int) -> np.ndarray:
    """Per send key: the first time one of ``statuses`` was reported (NaN: never)."""
    out = np.full(size, np.nan)
    chosen = events[events["status"].isin(statuses)]
    if len(chosen):
        firsts = chosen.groupby("key")["received_at"].min()
        out[firsts.index.to_numpy(dtype="int64")] = firsts.to_numpy(dtype="float64")
    return out


def _share(count: int, n: int) -> dict[str, Any]:
    interval = wilson_interval(count, n)
    return {"count": count, "of": n, "share": count / n if n else None, "ci95": list(interval) if interval else None}


def per_message(requests: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per acknowledged send with the first time each status was reported, and the unmatched count."""
    sends = _acked_sends(requests)
    matched, unmatched = _matched_events(sends, events)
    size = len(sends)
    table = sends.copy()
    for name, statuses in (
        ("sent", SENT_LIKE),
        ("delivered", DELIVERED_LIKE),
        ("read", ("read",)),
        ("failed", ("failed",)),
        ("any", ("queued", "sent", "delivered", "read", "failed", "other")),
    ):
        table[f"reported_{name}_at"] = _first(matched, statuses, size)
    failed = matched[matched["status"] == "failed"].sort_values("received_at").drop_duplicates("key")
    codes = np.full(size, None, dtype=object)
    codes[failed["key"].to_numpy(dtype="int64")] = failed["error_code"].astype("object").to_numpy()
    table["reported_error_code"] = codes
    return table, unmatched


def reported_figures(requests: pd.DataFrame, events: pd.DataFrame, *, inbound_top: int = 10) -> dict[str, Any]:
    """The vendor's own figures over the run's acknowledged sends (see the module docstring)."""
    table, unmatched = per_message(requests, events)
    acked = len(table)
    delivered = ~np.isnan(table["reported_delivered_at"].to_numpy())
    read = ~np.isnan(table["reported_read_at"].to_numpy())
    failed = ~np.isnan(table["reported_failed_at"].to_numpy())
    sent = ~np.isnan(table["reported_sent_at"].to_numpy())
    unconfirmed = ~(delivered | read | failed)
    latency = (table["reported_delivered_at"] - table["sent_at"]).to_numpy(dtype="float64") * 1000.0
    codes = table.loc[failed, "reported_error_code"].fillna("none").astype(str).value_counts()
    statuses = events["status"].astype("object")
    return {
        "measured": True,
        "source": "reported",
        "acked": acked,
        "events": len(events),
        "reported_sent": int(sent.sum()),
        "reported_delivered": int(delivered.sum()),
        "reported_read": int(read.sum()),
        "reported_failed": int(failed.sum()),
        "delivery_rate": _share(int(delivered.sum()), acked),
        "read_rate": _share(int(read.sum()), int(delivered.sum())),  # of the reported delivered
        "failure_rate": _share(int(failed.sum()), acked),
        "unconfirmed": _share(int(unconfirmed.sum()), acked),
        "status_latency_ms": latency_summary(latency[delivered]),
        "failures_by_code": {str(code): int(count) for code, count in codes.head(inbound_top).items()},
        "inbound_messages": int((statuses == "inbound").sum()),
        "unmatched_events": unmatched,
    }


def _truth(ledger: pd.DataFrame, webhooks: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Per correlation token: reached WhatsApp, failed there, and when the mock's ladder said delivered and read.
    The bool says whether the ladder's statuses were recorded (else delivered = reached and not failed)."""
    outbound = ledger[(ledger["direction"].astype("object") == "outbound") & text_present(ledger["correlation_id"])]
    failed = outbound["async_error_code"].notna() if "async_error_code" in outbound else False
    truth = pd.DataFrame(
        {
            "correlation_id": outbound["correlation_id"].astype("object").to_numpy(),
            "wamid": outbound["wamid"].astype("object").to_numpy(),
            "failed": np.asarray(failed, dtype=bool) if not isinstance(failed, bool) else False,
        }
    )
    # Older mock exports have no ``statuses`` column (read back as nulls): the ladder's truth is then unknown.
    said = webhooks["statuses"].astype(object).fillna("").astype(str) if "statuses" in webhooks else pd.Series([])
    ladder_known = bool((said.str.len() > 0).any())
    times: dict[str, dict[str, float]] = {"delivered": {}, "read": {}, "failed": {}}
    if ladder_known:
        rows = webhooks[(webhooks["kind"].astype("object") == "status") & (said.str.len() > 0).to_numpy()]
        for sent_at, wamids, statuses in zip(
            rows["sent_at"].to_numpy(dtype="float64"),
            rows["wamids"].astype(str),
            rows["statuses"].astype(str),
            strict=True,
        ):
            for wamid, status in zip(wamids.split(","), statuses.split(","), strict=False):
                if status in times and sent_at < times[status].get(wamid, np.inf):
                    times[status][wamid] = float(sent_at)
        # A read message was delivered (Meta skips ``delivered`` when both happen at once).
        for wamid, at in times["read"].items():
            times["delivered"].setdefault(wamid, at)
        truth["delivered_at"] = truth["wamid"].map(times["delivered"]).astype("float64")
        truth["read_at"] = truth["wamid"].map(times["read"]).astype("float64")
        truth["failed"] = truth["failed"] | truth["wamid"].isin(list(times["failed"]))
    else:
        truth["delivered_at"] = np.nan
        truth["read_at"] = np.nan
    return truth.drop_duplicates("correlation_id", keep="first"), ladder_known


def report_accuracy(
    requests: pd.DataFrame, events: pd.DataFrame, ledger: pd.DataFrame, webhooks: pd.DataFrame
) -> dict[str, Any]:
    """The vendor's reports against the mock's truth, per acknowledged send (see the module docstring)."""
    table, _ = per_message(requests, events)
    truth, ladder_known = _truth(ledger, webhooks)
    merged = table.merge(truth, on="correlation_id", how="left")
    reached = merged["wamid"].notna().to_numpy()
    true_failed = merged["failed"].fillna(False).to_numpy(dtype=bool)
    if ladder_known:
        true_delivered = merged["delivered_at"].notna().to_numpy() & ~true_failed
        true_read = merged["read_at"].notna().to_numpy()
    else:
        true_delivered = reached & ~true_failed
        true_read = np.zeros(len(merged), dtype=bool)
    rep_sent = merged["reported_sent_at"].notna().to_numpy()
    rep_delivered = merged["reported_delivered_at"].notna().to_numpy()
    rep_read = merged["reported_read_at"].notna().to_numpy()
    rep_failed = merged["reported_failed_at"].notna().to_numpy()
    unread_delivered = true_delivered & ~true_read
    true_read_n, rep_read_n = int(true_read.sum()), int(rep_read.sum())

    def skew(reported: str, true: str) -> dict[str, Any]:
        values = (merged[reported] - merged[true]).to_numpy(dtype="float64") * 1000.0
        return latency_summary(values[~np.isnan(values)])

    false_read = int((rep_read & ~true_read & true_delivered).sum())
    return {
        "measured": True,
        "ladder_known": ladder_known,
        "acked": len(merged),
        "true_delivered": int(true_delivered.sum()),
        "reported_delivered": int(rep_delivered.sum()),
        "true_read": true_read_n if ladder_known else None,
        "reported_read": rep_read_n,
        "true_failed": int(true_failed.sum()),
        "reported_failed": int(rep_failed.sum()),
        "never_reached_whatsapp": int((~reached).sum()),
        "reported_delivered_not_delivered": int((rep_delivered & ~true_delivered).sum()),
        "reports_for_unsent": int(((rep_sent | rep_delivered) & ~reached).sum()),
        "reported_delivered_but_lost": int((rep_delivered & ~reached).sum()),
        "delivered_not_reported": int((true_delivered & ~rep_delivered).sum()),
        "reported_read_not_read": int((rep_read & ~true_read).sum()) if ladder_known else None,
        "false_read_share": _share(false_read, int(unread_delivered.sum())) if ladder_known else None,
        "read_inflation": rep_read_n / true_read_n if ladder_known and true_read_n else None,
        "reported_failed_true": int((rep_failed & true_failed).sum()),
        "reported_failed_not_failed": int((rep_failed & ~true_failed).sum()),
        "failed_not_reported": int((true_failed & ~rep_failed).sum()),
        "delivered_agreement": float((rep_delivered == true_delivered).mean()) if len(merged) else None,
        "skew_ms": {
            "delivered": skew("reported_delivered_at", "delivered_at") if ladder_known else None,
            "read": skew("reported_read_at", "read_at") if ladder_known else None,
        },
    }


def reported_delivered_but_lost(messages: pd.DataFrame, requests: pd.DataFrame, events: pd.DataFrame) -> int:
    """Acknowledged sends the accounting counts lost (never in the ledger) that the vendor reported delivered."""
    table, _ = per_message(requests, events)
    lost = set(messages.loc[messages["status"] == "lost", "correlation_id"].astype("object"))
    said = table["reported_delivered_at"].notna() & table["correlation_id"].astype("object").isin(lost)
    return int(said.sum())
