"""The contact-centre figures: assignment, first responses, occupancy, the queue, and the tagged segment.

Inputs are the agents' events (``agents/*.parquet``, ``ground.records.AGENT_EVENT_SCHEMA``) and the mock's ledger.
One row per customer message that reached the vendor (an inbound ledger row with its token and the time its
webhook was delivered, the moment the vendor had it):

    assignment latency     the vendor's own time of the assignment (what the inbox read said; the time the agent
                           saw it when the dialect does not say) − delivered
    first bot response     the first outbound message linked to it (quoting it, or the next one to that customer)
                           that does not carry the customer's token − delivered
    first human response   the first outbound message carrying the customer's token (an agent's reply) − delivered
    first response         the earlier of the two

The agents watched their inboxes until their last read (``sweep``): a conversation is *judged* once it was
assigned, or when it was delivered at least ``JUDGE_S`` before that end (a later one had no fair chance to be
seen). Judged and never assigned is **unassigned**; judged and unassigned for longer than ``abandon_s`` (the
customer gave up) is **abandoned**, whether it was assigned later or never. Shares within 3 s and 5 s are of the
judged conversations (an unassigned one is not within any bound), with Wilson intervals.

Occupancy: each agent's open conversations (assigned, not yet closed) ÷ its cap, per window; balance across agents
is the coefficient of variation of their assignments (0: perfectly even). The queue: conversations delivered and
not yet assigned, each second, as the harness saw it.

The segment: the customers tagged before the load are its members; the ledger rows carrying the broadcast's token
are who got it. A member who got nothing is **lost**, anyone outside the segment who got it **unexpected**, a
second copy **duplicated**.

A run without agent events (a dialect without agent operations, a scenario without agents) is "not measured":
``agents_section`` returns None and every figure says why, never zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is, text_present
from analysis.stats import latency_summary, wilson_interval

JUDGE_S = 5.0  # a conversation delivered this close to the agents' last read is not judged (module docstring)
BOUNDS_S = (3.0, 5.0)
DEFAULT_ABANDON_S = 60.0
CDF_POINTS = 101
MAX_SERIES = 240  # points of the occupancy and queue series (one window each)
NOT_MEASURED = "no agent events: the vendor's dialect has no agent operations or the scenario has no agents"


def has_agents(events: pd.DataFrame) -> bool:
    return bool(len(events)) and bool(text_is(events["event"], "online").any())


def conversation_table(events: pd.DataFrame, ledger: pd.DataFrame, *, abandon_s: float) -> pd.DataFrame:
    """One row per customer message the vendor got: ``correlation_id, wamid, delivered_at, assigned_at, agent,
    bot_at, human_at, judged, assigned, unassigned, abandoned`` (times in Unix seconds, NaN when none)."""
    inbound = ledger[text_is(ledger["direction"], "inbound") & text_present(ledger["correlation_id"])]
    inbound = inbound[inbound["inbound_delivered_at"].notna()]
    table = pd.DataFrame(
        {
            "correlation_id": inbound["correlation_id"].astype("str").to_numpy(),
            "wamid": inbound["wamid"].astype("str").to_numpy(),
            "delivered_at": inbound["inbound_delivered_at"].to_numpy(dtype="float64"),
        }
    ).drop_duplicates("correlation_id")
    assigned = events[text_is(events["event"], "assigned") & text_present(events["correlation_id"])]
    when = assigned["vendor_at"].to_numpy(dtype="float64", na_value=np.nan)
    when = np.where(np.isnan(when), assigned["at"].to_numpy(dtype="float64", na_value=np.nan), when)
    firsts = (
        pd.DataFrame(
            {
                "correlation_id": assigned["correlation_id"].astype("str").to_numpy(),
                "assigned_at": when,
                "agent": assigned["agent"].astype("str").to_numpy(),
            }
        )
        .sort_values("assigned_at", kind="stable")
        .drop_duplicates("correlation_id")
    )
    table = table.merge(firsts, on="correlation_id", how="left")
    outbound = ledger[text_is(ledger["direction"], "outbound")]
    tokens = outbound["correlation_id"].astype("object")
    human = (
        pd.DataFrame({"correlation_id": tokens, "arrived_at": outbound["arrived_at"].to_numpy(dtype="float64")})
        .dropna(subset=["correlation_id"])
        .groupby("correlation_id", sort=False)["arrived_at"]
        .min()
        .rename("human_at")
    )
    table = table.merge(human, left_on="correlation_id", right_index=True, how="left")
    linked = pd.DataFrame(
        {
            "wamid": outbound["reply_to_wamid"].astype("object"),
            "token": tokens,
            "arrived_at": outbound["arrived_at"].to_numpy(dtype="float64"),
        }
    ).dropna(subset=["wamid"])
    linked = linked.merge(table[["wamid", "correlation_id"]], on="wamid", how="inner")
    bots = linked[linked["token"].astype("object") != linked["correlation_id"]]
    bot = bots.groupby("wamid", sort=False)["arrived_at"].min().rename("bot_at")
    table = table.merge(bot, left_on="wamid", right_index=True, how="left")
    end = _watched_until(events)
    delivered = table["delivered_at"].to_numpy(dtype="float64")
    assigned_at = table["assigned_at"].to_numpy(dtype="float64")
    is_assigned = ~np.isnan(assigned_at)
    judged = is_assigned | (delivered <= end - JUDGE_S)
    waited = np.where(is_assigned, assigned_at, end) - delivered
    table["assigned"] = is_assigned
    table["judged"] = judged
    table["unassigned"] = judged & ~is_assigned
    table["abandoned"] = judged & (waited > abandon_s)
    return table.sort_values("delivered_at", kind="stable").reset_index(drop=True)


def _watched_until(events: pd.DataFrame) -> float:
    times = events["at"].to_numpy(dtype="float64", na_value=np.nan)
    return float(np.nanmax(times)) if times.size and not np.isnan(times).all() else float("inf")


def latency_ms(table: pd.DataFrame, column: str) -> np.ndarray:
    """``column − delivered_at`` in ms for the rows that have it (negative clock noise clipped to 0)."""
    values = (table[column].to_numpy(dtype="float64") - table["delivered_at"].to_numpy(dtype="float64")) * 1000.0
    clipped: np.ndarray = np.clip(values[~np.isnan(values)], 0.0, None)
    return clipped


def first_response_ms(table: pd.DataFrame) -> np.ndarray:
    first = np.fmin(table["bot_at"].to_numpy(dtype="float64"), table["human_at"].to_numpy(dtype="float64"))
    values = (first - table["delivered_at"].to_numpy(dtype="float64")) * 1000.0
    clipped: np.ndarray = np.clip(values[~np.isnan(values)], 0.0, None)
    return clipped


def within_share(table: pd.DataFrame, bound_s: float) -> tuple[int, int]:
    """(conversations assigned within ``bound_s`` of delivery, judged conversations)."""
    judged = table[table["judged"]]
    wait = judged["assigned_at"].to_numpy(dtype="float64") - judged["delivered_at"].to_numpy(dtype="float64")
    return int((wait <= bound_s).sum()), len(judged)


def _share(good: int, n: int) -> dict[str, Any]:
    bounds = wilson_interval(good, n) if n else None
    interval = list(bounds) if bounds is not None else None
    return {"share": good / n if n else None, "count": good, "of": n, "ci95": interval}


def _cdf(values_ms: np.ndarray) -> dict[str, list[float]]:
    if values_ms.size == 0:
        return {"ms": [], "share": []}
    shares = np.linspace(0.0, 1.0, CDF_POINTS)
    return {"ms": np.quantile(values_ms, shares).tolist(), "share": shares.tolist()}


def _caps(events: pd.DataFrame) -> dict[str, int]:
    online = events[text_is(events["event"], "online") & events["ok"].fillna(False).astype(bool)]
    caps: dict[str, int] = {}
    for agent, detail in zip(online["agent"].astype("str"), online["detail"].astype("object"), strict=True):
        text = str(detail or "")
        if text.startswith("cap ") and text[4:].isdigit():
            caps[agent] = int(text[4:])
    return caps


def occupancy(events: pd.DataFrame, t0: float, end: float) -> dict[str, Any]:
    """Per agent: open conversations ÷ cap in each window (``t`` seconds from ``t0``), and its mean over the run."""
    caps = _caps(events)
    window = max(1.0, (end - t0) / MAX_SERIES)
    edges = np.arange(t0, end + window, window)
    series: dict[str, list[float]] = {}
    means: dict[str, float] = {}
    for agent, cap in sorted(caps.items()):
        mine = events[text_is(events["agent"], agent)]
        opened = mine[text_is(mine["event"], "assigned")].drop_duplicates("conversation_id")
        closed = mine[text_is(mine["event"], "closed") & mine["ok"].fillna(False).astype(bool)]
        open_at = np.sort(opened["at"].to_numpy(dtype="float64"))
        close_at = np.sort(closed["at"].to_numpy(dtype="float64"))
        counts = np.searchsorted(open_at, edges, side="right") - np.searchsorted(close_at, edges, side="right")
        share = np.clip(counts / cap, 0.0, None)
        series[agent] = share.tolist()
        means[agent] = float(share.mean()) if share.size else 0.0
    return {"t": (edges - t0).tolist(), "agents": series, "mean": means, "window_s": window}


def queue_length(table: pd.DataFrame, t0: float, end: float) -> dict[str, list[float]]:
    """Conversations delivered and not yet assigned, at each window edge (as the harness saw them)."""
    window = max(1.0, (end - t0) / MAX_SERIES)
    edges = np.arange(t0, end + window, window)
    delivered = np.sort(table["delivered_at"].to_numpy(dtype="float64"))
    assigned = np.sort(table["assigned_at"].to_numpy(dtype="float64"))
    assigned = assigned[~np.isnan(assigned)]
    length = np.searchsorted(delivered, edges, side="right") - np.searchsorted(assigned, edges, side="right")
    return {"t": (edges - t0).tolist(), "length": np.clip(length, 0, None).tolist()}


def segment_of(events: pd.DataFrame) -> tuple[str, frozenset[str]] | None:
    """The segment broadcast's token and the tagged members, for the cost's waste item; None without one."""
    started = events[text_is(events["event"], "broadcast") & text_present(events["correlation_id"])]
    if started.empty:
        return None
    tagged = events[text_is(events["event"], "tagged") & events["ok"].fillna(False).astype(bool)]
    return str(started["correlation_id"].iloc[0]), frozenset(tagged["customer"].astype("str"))


def segment_accounting(events: pd.DataFrame, ledger: pd.DataFrame) -> dict[str, Any] | None:
    """Who of the tagged segment got the broadcast (module docstring); None when no broadcast was started."""
    started = events[text_is(events["event"], "broadcast") & text_present(events["correlation_id"])]
    if started.empty:
        return None
    token = str(started["correlation_id"].iloc[0])
    broadcast_ok = bool(started["ok"].fillna(False).astype(bool).iloc[0])
    tagged = events[text_is(events["event"], "tagged")]
    tagged_ok = tagged["ok"].fillna(False).astype(bool)
    members = set(tagged.loc[tagged_ok, "customer"].astype("str"))
    rows = ledger[text_is(ledger["direction"], "outbound") & text_is(ledger["correlation_id"], token)]
    recipient = rows["wa_id"].astype("object").where(rows["wa_id"].notna(), rows["recipient"]).astype("str")
    copies = recipient.value_counts()
    got = set(copies.index)
    lost = sorted(members - got)
    unexpected = sorted(got - members)
    return {
        "tag": str(started["detail"].iloc[0] or ""),
        "broadcast_ok": broadcast_ok,
        "members": len(members),
        "tag_failures": int((~tagged_ok).sum()),
        "delivered": len(got & members),
        "lost": len(lost),
        "unexpected": len(unexpected),
        "unexpected_messages": int(copies[list(unexpected)].sum()) if unexpected else 0,
        "duplicated": int((copies - 1).clip(lower=0).sum()),
        "lost_sample": lost[:10],
        "unexpected_sample": unexpected[:10],
        "token": token,
    }


def agents_section(
    events: pd.DataFrame, ledger: pd.DataFrame, t0: float, end: float, *, abandon_s: float = DEFAULT_ABANDON_S
) -> dict[str, Any] | None:
    """The summary's ``agents`` section; None when the run had no agents (not measured, never zero)."""
    if not has_agents(events):
        return None
    table = conversation_table(events, ledger, abandon_s=abandon_s)
    assign_ms = latency_ms(table, "assigned_at")
    judged = int(table["judged"].sum())
    per_agent = []
    assigned = events[text_is(events["event"], "assigned")].drop_duplicates(["agent", "conversation_id"])
    counts = assigned["agent"].astype("str").value_counts()
    replies = events[text_is(events["event"], "replied") & events["ok"].fillna(False).astype(bool)]
    reply_counts = replies["agent"].astype("str").value_counts()
    occ = occupancy(events, t0, max(end, _finite(_watched_until(events), end)))
    for agent in sorted(set(_caps(events)) | set(counts.index)):
        row = {"agent": agent, "assignments": int(counts.get(agent, 0)), "replies": int(reply_counts.get(agent, 0))}
        per_agent.append({**row, "occupancy_mean": occ["mean"].get(agent)})
    loads = np.array([row["assignments"] for row in per_agent], dtype="float64")
    refused = events[text_is(events["event"], "online_refused")]
    return {
        "agents": len(_caps(events)),
        "refused_logins": len(refused),
        "conversations": len(table),
        "judged": judged,
        "assigned": int(table["assigned"].sum()),
        "unassigned": int(table["unassigned"].sum()),
        "abandoned": int(table["abandoned"].sum()),
        "abandon_s": abandon_s,
        "assignment_latency_ms": latency_summary(assign_ms),
        "assignment_cdf": _cdf(assign_ms),
        **{f"within_{b:g}s": _share(*within_share(table, b)) for b in BOUNDS_S},
        "first_bot_response_ms": latency_summary(latency_ms(table, "bot_at")),
        "first_human_response_ms": latency_summary(latency_ms(table, "human_at")),
        "first_response_ms": latency_summary(first_response_ms(table)),
        "no_human_reply": int(table["assigned"].sum() - table.loc[table["assigned"], "human_at"].notna().sum()),
        "per_agent": per_agent,
        "balance_cv": float(loads.std() / loads.mean()) if loads.size and loads.mean() > 0 else None,
        "occupancy": occ,
        "queue": queue_length(table, t0, max(end, _finite(_watched_until(events), end))),
        "segment": segment_accounting(events, ledger),
    }


def _finite(value: float, fallback: float) -> float:
    return value if np.isfinite(value) else fallback
