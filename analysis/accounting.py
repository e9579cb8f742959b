"""End-to-end accounting (Jepsen total-queue semantics), reply latency and webhook acknowledgement latency.

Every message the harness asks a vendor to send (operations ``send_*``) carries a correlation token; the mock's
ledger records each arrival with the token it found. Joining the two on the token gives, per token:

    acked          the vendor said ok                      lost        acked, never in the ledger
    failed         the vendor said no (definite)           recovered   indeterminate, but delivered
    indeterminate  timeout / transport error: unknown      unresolved  indeterminate, never delivered (at risk)
    duplicated     in the ledger more than once            unexpected  in the ledger, never sent by us

Invariants (tested with hypothesis): attempted = acked + failed + indeterminate; acked = acked_delivered + lost;
indeterminate = recovered + unresolved; delivered = acked_delivered + recovered + delivered_after_fail.
Vendor message ids are recorded but never trusted: only the token decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from analysis.columns import as_arrow, text_is, text_present, text_test
from analysis.stats import (
    ValueRanks,
    latency_summary,
    matching_ranks,
    rule_of_three,
    sorted_summary,
    value_ranks,
    wilson_interval,
)
from analysis.tokens import number_tokens

# Operations whose records are the harness asking the mock to deliver a customer's message (inbound traffic):
# their tokens travel the other way and are not sends the vendor must deliver.
INBOUND_OPERATIONS = frozenset({"customer_message", "customer_messages", "inbound"})
SEND_PREFIX = "send_"
# Requests whose tokens reach the ledger but are accounted elsewhere: an agent's reply carries the customer's token
# (a first human response, analysis.agents), a segment broadcast one token for the whole segment (its accounting).
ACCOUNTED_ELSEWHERE = frozenset({"agent_reply", "broadcast_segment"})

_NAMES = ["failed", "indeterminate", "ok"]
STATUSES = ["delivered", "lost", "recovered", "unresolved", "failed", "delivered_after_fail", "unexpected"]


def is_send(operation: pd.Series) -> np.ndarray:
    """Operations that ask the vendor to send a WhatsApp message (``send_text``, ``send_template``,
    ``send_media``). Others may carry a token too (a media upload, a search) but put nothing in the ledger, so
    counting them would report messages lost that were never messages."""
    return text_test(operation, lambda array: pc.starts_with(array, SEND_PREFIX))


@dataclass(frozen=True)
class TokenCodes:
    """Every correlation token of a run numbered once (one hash pass over both sides), shared by the accounting
    join and the cost section: each request row's and ledger row's number (-1 without a token) and the tokens."""

    requests: np.ndarray
    ledger: np.ndarray
    names: pd.Index


def token_codes(requests: pd.DataFrame, ledger: pd.DataFrame, *, parts: int | None = None) -> TokenCodes:
    """Number the tokens of ``requests`` and ``ledger`` (``correlation_id``) in one factorisation.

    ``analysis.tokens.number_tokens`` does it: in one pyarrow dictionary-encoding of both columns joined while
    their text is small, else part by part (split by a hash of the token, so memory is bounded by a part, not by the
    run); ``parts`` forces a number of parts. The tokens are handed to pandas as its arrow-backed ``str``, without a
    copy."""
    (request_codes, ledger_codes), names = number_tokens(
        [as_arrow(frame["correlation_id"]) for frame in (requests, ledger)], parts=parts
    )
    return TokenCodes(request_codes, ledger_codes, names)


def first_appearance(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of token numbers (each in ``0 .. size - 1``): every value renumbered by its first
    appearance, and the value each new number stands for. Two linear passes over arrays, no hash table."""
    increasing = _numbered_by_value(codes, size)
    if increasing is not None:
        return increasing
    steps = np.arange(codes.size, dtype="int64")
    first = np.full(size, codes.size, dtype="int64")
    first[codes[::-1]] = steps[::-1]  # a repeated index keeps the last value assigned: each value's first step
    starts = np.zeros(codes.size + 1, dtype=bool)
    starts[first] = True
    starts = starts[:-1]  # the slot past the end stood for the values that never appear
    numbering = np.cumsum(starts, dtype="int64") - 1
    return numbering[first[codes]], codes[starts]


def _numbered_by_value(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``first_appearance`` when every value first appears after all smaller ones (the usual case: sends numbered in
    the order the run made them), else None. Then a value's number is its rank among the values present: one
    boolean scatter, one running maximum and one gather, about 3× faster than the general path at 10 million codes.
    The test: a value greater than all before it is new, and when as many such rises occur as there are distinct
    values, every value's first appearance is one of them, so they come in increasing order."""
    if codes.size == 0:
        return None
    seen = np.zeros(size, dtype=bool)
    seen[codes] = True
    rises = 1 + int(np.count_nonzero(codes[1:] > np.maximum.accumulate(codes)[:-1]))
    if rises != int(np.count_nonzero(seen)):
        return None
    numbering = np.cumsum(seen, dtype="int64") - 1
    return numbering[codes], np.flatnonzero(seen)


def _send_mask(requests: pd.DataFrame) -> np.ndarray:
    mask: np.ndarray = (
        text_present(requests["correlation_id"])
        & ~text_is(requests["outcome"], "dropped")
        & is_send(requests["operation"])
    )
    return mask


def _accounted_elsewhere(requests: pd.DataFrame, ledger: pd.DataFrame) -> set[str]:
    """Tokens whose outbound ledger rows are replies to customers or a segment's broadcast, not sends we made."""
    tokens: set[str] = set()
    other = requests[requests["operation"].isin(ACCOUNTED_ELSEWHERE) & text_present(requests["correlation_id"])]
    tokens.update(other["correlation_id"].astype("str"))
    if len(other):  # agents answered customers: their replies carry the customers' own (inbound) tokens
        inbound = ledger[text_is(ledger["direction"], "inbound") & text_present(ledger["correlation_id"])]
        tokens.update(inbound["correlation_id"].astype("str"))
    return tokens


def message_table(requests: pd.DataFrame, ledger: pd.DataFrame, tokens: TokenCodes | None = None) -> pd.DataFrame:
    """One row per token seen on either side: ``correlation_id, sent_at, outcome, copies, delivered_at, status,
    token``.

    ``outcome`` is the best answer the vendor gave for the token (ok > indeterminate > failed; a client retry
    that finally got ok counts as acked); ``sent_at`` the scheduled slot, else the first start; ``status`` one of
    lost, delivered, recovered, unresolved, failed, delivered_after_fail, unexpected. Rows come in the order
    the tokens first appear among the sends, then among the ledger's arrivals. ``tokens``: ``token_codes`` of
    the same frames, when the caller already has them. ``token`` is the row's token number in ``tokens.names``, so
    a later join by token (``analysis.numbers``) takes integers, not text; it refers to the ``tokens`` given (or made
    here), and is of no use with another numbering.
    """
    tokens = tokens if tokens is not None else token_codes(requests, ledger)
    send_mask = _send_mask(requests)
    arrival_mask = text_is(ledger["direction"], "outbound") & text_present(ledger["correlation_id"])
    sends = requests.loc[send_mask, ["outcome", "ok", "scheduled_at", "started_at"]]
    arrivals = ledger.loc[arrival_mask, ["arrived_at"]]
    replying = text_present(ledger["reply_to_wamid"])[arrival_mask]
    # Renumber by first appearance among the sends, then the arrivals (an integer factorisation, no strings).
    codes, first = first_appearance(
        np.concatenate([tokens.requests[send_mask], tokens.ledger[arrival_mask]]), len(tokens.names)
    )
    uniques = tokens.names.take(first)
    token_numbers = first
    send_codes, arrival_codes = codes[: len(sends)], codes[len(sends) :]
    size = len(uniques)
    # Replies to a customer's message are accounted as replies, not as sends we never made.
    sent = np.zeros(size, dtype=bool)
    sent[send_codes] = True
    keep = ~replying | sent[arrival_codes]
    elsewhere = _accounted_elsewhere(requests, ledger)
    if elsewhere:
        theirs = ledger.loc[arrival_mask, "correlation_id"].astype(str).isin(elsewhere).to_numpy(dtype=bool)
        keep &= ~theirs | sent[arrival_codes]
    arrivals, arrival_codes = arrivals[keep], arrival_codes[keep]
    used = np.zeros(size, dtype=bool)
    used[send_codes] = True
    used[arrival_codes] = True
    if not used.all():
        # Tokens seen only on dropped reply rows: renumber so they do not show up as "unexpected".
        remap = np.cumsum(used) - 1
        send_codes, arrival_codes = remap[send_codes], remap[arrival_codes]
        uniques = uniques[used]
        token_numbers = token_numbers[used]
        size = len(uniques)

    outcome = sends["outcome"]
    rank = np.where(text_is(outcome, "indeterminate"), 1, 0)
    rank = np.where(text_is(outcome, "ok") | sends["ok"].fillna(False).to_numpy(dtype=bool), 2, rank)
    scheduled = sends["scheduled_at"].to_numpy(dtype="float64", na_value=np.nan)
    started = sends["started_at"].to_numpy(dtype="float64", na_value=np.nan)
    sent_time = np.where(np.isnan(scheduled), started, scheduled)
    best = np.full(size, -1, dtype="int64")
    for level in (0, 1, 2):  # the best answer per token: higher ranks assigned last win (cheaper than maximum.at)
        best[send_codes[rank == level]] = level
    sent_at = np.full(size, np.inf)
    np.minimum.at(sent_at, send_codes, np.nan_to_num(sent_time, nan=np.inf))
    copies = np.bincount(arrival_codes, minlength=size)
    delivered_at = np.full(size, np.inf)
    np.minimum.at(delivered_at, arrival_codes, arrivals["arrived_at"].to_numpy(dtype="float64", na_value=np.inf))

    attempted = best >= 0
    delivered = copies > 0
    status = np.select(
        [~attempted, (best == 2) & delivered, best == 2, (best == 1) & delivered, best == 1, delivered],
        [
            STATUSES.index(name)
            for name in ("unexpected", "delivered", "lost", "recovered", "unresolved", "delivered_after_fail")
        ],
        default=STATUSES.index("failed"),
    )
    # Categoricals: a 5-million-row table of small codes, not 5 million Python strings. Every column is a fresh
    # array made here, so the frame takes them as they are (``copy=False``: 0.35 s less at 5 million tokens).
    best_answer = pd.Categorical.from_codes(
        np.where(attempted, np.clip(best, 0, 2), 3).astype("int8"), dtype=pd.CategoricalDtype([*_NAMES, "unsent"])
    )
    return pd.DataFrame(
        {
            "correlation_id": uniques.array,
            "sent_at": np.where(np.isinf(sent_at), np.nan, sent_at),
            "outcome": best_answer,
            "copies": copies,
            "delivered_at": np.where(np.isinf(delivered_at), np.nan, delivered_at),
            "status": pd.Categorical.from_codes(status.astype("int8"), dtype=pd.CategoricalDtype(STATUSES)),
            "token": token_numbers.astype("int32" if len(tokens.names) < 2**31 else "int64"),
        },
        copy=False,
    )


def delivery_ms(messages: pd.DataFrame) -> np.ndarray:
    """Each row's delivery latency in ms (first arrival − sent), NaN unless the token was sent and delivered."""
    latency = (messages["delivered_at"] - messages["sent_at"]).to_numpy(dtype="float64") * 1000.0
    sent_and_delivered = ~np.asarray((messages["status"] == "unexpected").to_numpy(), dtype=bool)
    sent_and_delivered &= messages["copies"].to_numpy() > 0
    return np.where(sent_and_delivered, latency, np.nan)


def delivery_ranks(messages: pd.DataFrame) -> ValueRanks:
    """``delivery_ms`` sorted once (``value_ranks``): the accounting's latency figures and the SLA's delivery latency
    criterion (``Evidence.orders["delivery_ms"]``) take it instead of sorting the column each."""
    return value_ranks(delivery_ms(messages))


def accounting(
    messages: pd.DataFrame,
    *,
    ledger_available: bool = True,
    lost_sample: int = 20,
    delivery: ValueRanks | None = None,
) -> dict[str, Any]:
    """The accounting figures of a ``message_table``; see the module docstring for each name. ``delivery``:
    ``delivery_ranks`` of the same table when already made (checked to hold exactly its values, else sorted here)."""

    def status_is(name: str) -> np.ndarray:
        return np.asarray((messages["status"] == name).to_numpy(), dtype=bool)

    copies = messages["copies"].to_numpy()
    unexpected = status_is("unexpected")
    attempted_mask = ~unexpected
    counts = {name: int(status_is(name).sum()) for name in ("delivered", "lost", "recovered", "unresolved")}
    after_fail = int(status_is("delivered_after_fail").sum())
    failed = int(status_is("failed").sum()) + after_fail
    acked = counts["delivered"] + counts["lost"]
    dup_mask = attempted_mask & (copies > 1)
    lost = counts["lost"]
    interval = wilson_interval(lost, acked)
    if delivery is not None:
        latency = sorted_summary(matching_ranks(delivery_ms(messages), [delivery]).sorted_values)
    else:
        latency_ms = (messages["delivered_at"] - messages["sent_at"]).to_numpy(dtype="float64") * 1000.0
        latency = latency_summary(latency_ms[attempted_mask & (copies > 0)])
    lost_rows = messages[status_is("lost")].sort_values("sent_at")
    attempted = int(attempted_mask.sum())
    return {
        "measured": ledger_available,
        "attempted": attempted,
        "acked": acked,
        "failed": failed,
        "indeterminate": counts["recovered"] + counts["unresolved"],
        "delivered": int((attempted_mask & (copies > 0)).sum()),
        "acked_delivered": counts["delivered"],
        "delivered_once": int((attempted_mask & (copies == 1)).sum()),
        "lost": lost,
        "duplicated": int(dup_mask.sum()),
        "duplicate_copies": int((copies[dup_mask] - 1).sum()),
        "unexpected": int(unexpected.sum()),
        "unexpected_copies": int(copies[unexpected].sum()),
        "recovered": counts["recovered"],
        "unresolved": counts["unresolved"],
        "delivered_after_fail": after_fail,
        "loss_rate": lost / acked if acked else None,
        "loss_rate_ci95": list(interval) if interval else None,
        # Zero loss is "fewer than 3/N with 95% confidence", never "perfect".
        "loss_upper_95": (rule_of_three(acked) if lost == 0 else (interval[1] if interval else None)),
        "duplicate_rate": int(dup_mask.sum()) / attempted if attempted else None,
        "valid": lost == 0 and not unexpected.any(),
        "delivery_latency_ms": latency,
        "lost_sample": [str(token) for token in lost_rows["correlation_id"].head(lost_sample)],
        "lost_window": _span(lost_rows["sent_at"]),
    }


def _span(times: pd.Series) -> dict[str, float] | None:
    values = times.dropna()
    if values.empty:
        return None
    return {"first": float(values.min()), "last": float(values.max()), "span_s": float(values.max() - values.min())}


def reply_table(ledger: pd.DataFrame) -> pd.DataFrame:
    """First reply per inbound message: ``inbound_wamid, delivered_at, replied_at, reply_ms``.

    Reply latency = ledger time of the vendor's reply − time the mock's webhook for the customer's message was
    acknowledged (``inbound_delivered_at``); inbound messages never answered have NaN ``replied_at``.
    """
    # The three columns read, not every column of the replies' rows (at 10 million ledger rows +0.2 GB for a moment).
    replying = text_is(ledger["direction"], "outbound") & ledger["reply_to_wamid"].notna().to_numpy()
    outbound = ledger.loc[replying, ["reply_to_wamid", "arrived_at", "inbound_delivered_at"]]
    replies = (
        outbound.groupby(outbound["reply_to_wamid"].astype("str"))
        .agg(replied_at=("arrived_at", "min"), delivered_at=("inbound_delivered_at", "min"))
        .reset_index()
        .rename(columns={"reply_to_wamid": "inbound_wamid"})
    )
    inbound = ledger.loc[text_is(ledger["direction"], "inbound"), ["wamid"]].astype("str")
    unanswered = inbound[~inbound["wamid"].isin(replies["inbound_wamid"])]
    table = pd.concat(
        [replies, pd.DataFrame({"inbound_wamid": unanswered["wamid"].to_numpy(dtype=object)})], ignore_index=True
    )
    table["reply_ms"] = (table["replied_at"] - table["delivered_at"]) * 1000.0
    return table


def mock_dispatch_ms(ledger: pd.DataFrame, attempts: pd.DataFrame) -> np.ndarray:
    """The mock's own dispatch delay per inbound customer message, in ms: its first webhook POST carrying the
    message (``sent_at``) − when the mock accepted it (the inbound ledger row's ``arrived_at``). Messages no
    recorded attempt carries are left out. Reply latency starts at the POST the vendor acknowledged, so this part
    is the mock's, never the vendor's."""
    inbound = ledger.loc[text_is(ledger["direction"], "inbound"), ["wamid", "arrived_at"]]
    if inbound.empty or attempts.empty:
        return np.zeros(0)
    carried = attempts.loc[text_present(attempts["wamids"]), ["wamids", "sent_at"]]
    if carried.empty:
        return np.zeros(0)
    posts = pd.DataFrame(
        {"wamid": carried["wamids"].astype("str").str.split(","), "sent_at": carried["sent_at"].to_numpy()}
    ).explode("wamid")
    first = posts.groupby("wamid", sort=False)["sent_at"].min()
    sent = inbound["wamid"].astype("str").map(first).to_numpy(dtype="float64", na_value=np.nan)
    delay = (sent - inbound["arrived_at"].to_numpy(dtype="float64", na_value=np.nan)) * 1000.0
    measured: np.ndarray = delay[~np.isnan(delay)]
    return measured


def reply_metrics(replies: pd.DataFrame, dispatch_ms: np.ndarray | None = None) -> dict[str, Any]:
    answered = replies["replied_at"].notna()
    return {
        "inbound": len(replies),
        "answered": int(answered.sum()),
        "unanswered": int((~answered).sum()),
        "latency_ms": latency_summary(replies["reply_ms"].to_numpy(dtype="float64", na_value=np.nan)),
        # The mock's part before the vendor had the message (see ``mock_dispatch_ms``), reported apart.
        "mock_dispatch_ms": latency_summary(dispatch_ms if dispatch_ms is not None else np.zeros(0)),
    }


WEBHOOK_GOOD_MEDIAN_MS = 250.0
WEBHOOK_SLOW_MS = 1000.0
WEBHOOK_SLOW_SHARE = 0.01


# ``load_run`` puts the mock's count of attempt records it had to drop (``{"evicted": n, "evicted_until": t}``,
# from webhooks.parquet's schema metadata) in the attempts frame's ``attrs`` under this key.
WEBHOOK_EVICTION_ATTR = "scrmbench.webhook_eviction"


def webhook_coverage(attempts: pd.DataFrame) -> dict[str, Any] | None:
    """None when the attempts are complete; else how many older ones the mock dropped and the note to show.

    The mock drops the oldest attempt records only when it can neither keep them in memory nor spill them to
    disk; figures computed from the rest describe the tail of the run, and must say so.
    """
    info = attempts.attrs.get(WEBHOOK_EVICTION_ATTR) or {}
    evicted = int(info.get("evicted") or 0)
    if evicted <= 0:
        return None
    until = info.get("evicted_until")
    when = datetime.fromtimestamp(float(until), UTC).isoformat(timespec="milliseconds") if until else "an unknown time"
    return {
        "evicted_attempts": evicted,
        "evicted_until": float(until) if until else None,
        "note": (
            f"covers only the webhook attempts sent after {when} (evicted_until): the mock dropped {evicted:,} older "
            "attempt records (attempts_max_rows reached with no writable spill folder)"
        ),
    }


def webhook_metrics(attempts: pd.DataFrame) -> dict[str, Any]:
    """Acknowledgement latency of the mock's webhook POSTs; good = median ≤ 250 ms and < 1% over 1 s.

    An attempt with no answer (timeout, connect error) counts as over 1 s whatever its recorded time. When the
    mock dropped older attempt records, ``coverage`` and ``label`` say the figures cover only the later ones.
    """
    outcome = attempts["outcome"].astype("str")
    response = attempts["response_ms"].to_numpy(dtype="float64", na_value=np.nan)
    unanswered = outcome.isin(["timeout", "connect_error"]).to_numpy()
    slow = unanswered | (response > WEBHOOK_SLOW_MS)
    n = len(attempts)
    summary = latency_summary(response[~unanswered])
    over = float(slow.sum()) / n if n else None
    median = summary["p50"]
    coverage = webhook_coverage(attempts)
    partial = (
        {"coverage": coverage, "label": f"webhook acknowledgement latency, {coverage['note']}"} if coverage else {}
    )
    return {
        **partial,
        "attempts": n,
        "deliveries": int(attempts["delivery_id"].nunique()),
        "retries": int((attempts["attempt"].fillna(0).to_numpy() > 0).sum()),
        "by_outcome": {str(k): int(v) for k, v in outcome.value_counts().sort_index().items()},
        "ack_latency_ms": summary,
        "over_1s_rate": over,
        "good": (
            median is not None and over is not None and median <= WEBHOOK_GOOD_MEDIAN_MS and over < WEBHOOK_SLOW_SHARE
        ),
    }
