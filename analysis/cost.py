"""What the traffic cost: billable messages priced with a rate card, and the cost of waste (pure functions).

From the mock's ledger (outbound rows; docs/whatsapp-2026.md §6-7):

- a row is **charged** when the mock priced it billable (``billable``) and it was delivered (no
  ``async_error_code``: a message whose status was ``failed`` is never charged);
- its price is the rate card's for the market of its ``wa_id`` (the longest calling-code prefix) and its
  ``category``; a market or category the card lacks makes the row **unpriced** (counted apart, never free);
- **duplicates**: every copy of a correlation token after its first arrival (the vendor sent it again);
- **re-sent after a failure**: the duplicates of tokens the vendor answered with a failure or a timeout (it
  retried although the first copy had gone through): part of the duplicates, shown on its own;
- **sent outside the segment**: the copies of a tagged-segment broadcast (its token) that reached customers outside
  the segment (``segment``: the broadcast's token and the tagged members; issue 18's waste item);
- **cost per 1,000 delivered**: all charged cost over the distinct messages delivered (a token counts once;
  rows without a token, such as replies, each once), times 1,000.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is, text_present
from analysis.rates import RateCard

COST_COLUMNS = ("wa_id", "recipient", "category", "billable", "async_error_code", "correlation_id", "arrived_at")


def _round(value: float) -> float:
    return round(float(value), 6)


def priced_rows(ledger: pd.DataFrame, card: RateCard) -> pd.DataFrame:
    """Outbound rows with ``market``, ``price_usd`` (NaN when unpriced), ``charged``, ``delivered``."""
    out = ledger.loc[text_is(ledger["direction"], "outbound")].copy()
    phone = out["wa_id"].astype("object").where(text_present(out["wa_id"]), out["recipient"].astype("object"))
    phone = phone.fillna("").astype(str)
    category = out["category"].astype("object").fillna("").astype(str)
    markets, prices = [], []
    for number, kind in zip(phone, category, strict=True):
        rate = card.market_of(number)
        markets.append(rate.prefix if rate else None)
        price = rate.price(kind) if rate else None
        prices.append(np.nan if price is None else price)
    out["market"] = markets
    out["price_usd"] = np.asarray(prices, dtype="float64")
    failed = out["async_error_code"].notna().to_numpy()
    out["delivered"] = ~failed
    out["charged"] = out["billable"].fillna(False).to_numpy(dtype=bool) & ~failed
    return out


def _group(rows: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for name, part in rows.groupby(key, sort=True, dropna=False):
        label = "unknown" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        priced = part["price_usd"].notna()
        groups[label] = {
            "messages": len(part),
            "unpriced": int((~priced).sum()),
            "cost_usd": _round(part.loc[priced, "price_usd"].sum()),
        }
    return groups


def cost(
    ledger: pd.DataFrame,
    messages: pd.DataFrame,
    card: RateCard,
    *,
    segment: tuple[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The ``cost`` section of summary.json (docs/summary-schema.md). ``messages`` is accounting's
    ``message_table`` (for the vendor's answer per token); ``segment`` the tagged broadcast's token and members
    (``analysis.agents.segment_of``), when the run had one."""
    if "billable" not in ledger.columns or ledger["billable"].isna().all():
        return {
            "measured": False,
            "note": "the ledger has no pricing (a mock before late 2026, or no outbound messages)",
            "rate_card": card.describe(),
        }
    rows = priced_rows(ledger, card)
    charged = rows[rows["charged"]]
    priced = charged["price_usd"].notna()
    total = float(charged.loc[priced, "price_usd"].sum())

    tokened = text_present(rows["correlation_id"])
    order = rows.assign(_tokened=tokened).sort_values("arrived_at", kind="stable")
    copies = order[order["_tokened"]]
    extra = copies.duplicated("correlation_id", keep="first")
    extra_rows = copies[extra]
    outcome = dict(zip(messages["correlation_id"], messages["outcome"].astype(str), strict=True))
    after_failure = extra_rows["correlation_id"].map(outcome).isin(["failed", "indeterminate"])

    def spent(part: pd.DataFrame) -> dict[str, Any]:
        paid = part[part["charged"]]
        return {"copies": len(part), "charged": len(paid), "cost_usd": _round(paid["price_usd"].sum())}

    outside = rows.iloc[0:0]
    if segment is not None:
        token, members = segment
        phone = rows["wa_id"].astype("object").where(text_present(rows["wa_id"]), rows["recipient"].astype("object"))
        mask = text_is(rows["correlation_id"], token) & ~phone.astype(str).isin(members).to_numpy(dtype=bool)
        outside = rows[mask]

    delivered = rows[rows["delivered"]]
    delivered_tokens = delivered.loc[text_present(delivered["correlation_id"]), "correlation_id"].nunique()
    delivered_unique = int(delivered_tokens + (~text_present(delivered["correlation_id"])).sum())
    return {
        "measured": True,
        "rate_card": card.describe(),
        "currency": card.currency,
        "outbound": len(rows),
        "billable": int(rows["billable"].fillna(False).sum()),
        "charged": len(charged),
        "not_delivered": int((~rows["delivered"]).sum()),
        "unpriced": int((~priced).sum()),
        "unpriced_markets": sorted({str(m) for m in charged.loc[~priced, "market"].fillna("none")}),
        "total_usd": _round(total),
        "by_category": _group(charged, "category"),
        "by_market": _group(charged, "market"),
        "delivered_messages": delivered_unique,
        "cost_per_1000_delivered_usd": _round(total / delivered_unique * 1000.0) if delivered_unique else None,
        "duplicates": spent(extra_rows),
        "resent_after_failure": spent(extra_rows[after_failure.to_numpy(dtype=bool)]),
        "outside_segment": spent(outside) if segment is not None else None,
    }


def usd(value: float) -> str:
    """USD as a buyer reads it: ``12.5`` → ``"$12.50"``, ``0.004`` → ``"$0.004"`` (no cent rounded to zero)."""
    if value == 0 or abs(value) >= 0.0995:
        return f"${value:,.2f}"
    return f"${value:.2g}"


def _cards_key(card: dict[str, Any]) -> tuple[str, str]:
    return str(card.get("name") or "?"), str(card.get("as_of") or "?")


def pool(sections: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Several runs' ``cost`` sections (one vendor's) as one: sums, the cost per 1,000 delivered over all of them,
    and how much of it is priced. ``status`` says how far the figures can be believed:

    - ``not_measured``: no run has a priced ledger (``per_1000_delivered_usd`` and ``duplicates_usd`` None);
    - ``unpriced``: every charged message is outside the card (its markets or categories): no price at all, never $0;
    - ``partly_priced``: some charged messages are unpriced: both figures are lower bounds (``unpriced_share``);
    - ``priced``: every charged message has a price (a run that charged nothing costs a true $0).

    ``duplicates_usd`` is None when duplicates were charged, some messages are unpriced and no copy has a price
    (their price is unknown).
    """
    measured = [s for s in sections if isinstance(s, dict) and s.get("measured")]
    described = [s["rate_card"] for s in measured if isinstance(s.get("rate_card"), dict)]
    cards = {_cards_key(card): dict(card) for card in described}
    unique_cards = [cards[key] for key in sorted(cards)]
    if not measured:
        return {
            "status": "not_measured",
            "runs": 0,
            "rate_cards": unique_cards,
            "per_1000_delivered_usd": None,
            "duplicates_usd": None,
            "unpriced_share": None,
        }
    charged = sum(int(s.get("charged") or 0) for s in measured)
    unpriced = sum(int(s.get("unpriced") or 0) for s in measured)
    total = sum(float(s.get("total_usd") or 0.0) for s in measured)
    delivered = sum(int(s.get("delivered_messages") or 0) for s in measured)
    dups = [s.get("duplicates") or {} for s in measured]
    dup_copies = sum(int(d.get("copies") or 0) for d in dups)
    dup_charged = sum(int(d.get("charged") or 0) for d in dups)
    dup_cost = sum(float(d.get("cost_usd") or 0.0) for d in dups)
    outside: list[dict[str, Any]] = [
        s["outside_segment"] for s in measured if isinstance(s.get("outside_segment"), dict)
    ]
    if unpriced == 0:
        status = "priced"
    elif unpriced >= charged:
        status = "unpriced"
    else:
        status = "partly_priced"
    markets = sorted({str(m) for s in measured for m in s.get("unpriced_markets") or []})
    return {
        "status": status,
        "runs": len(measured),
        "rate_cards": unique_cards,
        "cards_differ": len(unique_cards) > 1,
        "charged": charged,
        "unpriced": unpriced,
        "unpriced_share": unpriced / charged if charged else 0.0,
        "unpriced_markets": markets,
        "total_usd": _round(total),
        "delivered_messages": delivered,
        "per_1000_delivered_usd": (_round(total / delivered * 1000.0) if delivered and status != "unpriced" else None),
        "duplicates": {"copies": dup_copies, "charged": dup_charged},
        # charged copies that priced at nothing while some messages are unpriced: their price is unknown, not $0
        "duplicates_usd": None if dup_charged and unpriced and not dup_cost else _round(dup_cost),
        # a segment broadcast's copies to customers outside the segment (None: no run had a segment broadcast)
        "outside_segment_usd": _round(sum(float(o.get("cost_usd") or 0.0) for o in outside)) if outside else None,
        "outside_segment_copies": sum(int(o.get("copies") or 0) for o in outside) if outside else None,
    }
