"""What the traffic cost: billable messages priced with a rate card, and the cost of waste (pure functions).

From the mock's ledger (outbound rows; docs/whatsapp-2026.md §6-7):

- a row is **charged** when the mock priced it billable (``billable``) and it was delivered (no
  ``async_error_code``: a message whose status was ``failed`` is never charged);
- its price is the rate card's for the market of its ``wa_id`` (the longest calling-code prefix) and its
  ``category``; a market or category the card lacks makes the row **unpriced** (counted apart, never free);
- **duplicates**: every copy of a correlation token after its first arrival (the vendor sent it again);
- **re-sent after a failure**: the duplicates of tokens for which a send got a failure or a timeout from the vendor
  (any attempt, also when a retry later got ok: the message was sent again although its first copy had gone
  through): part of the duplicates, shown on its own;
- **sent outside the segment**: the copies of a tagged-segment broadcast (its token) that reached customers outside
  the segment (``segment``: the broadcast's token and the tagged members; issue 18's waste item);
- **cost per 1,000 delivered**: all charged cost over the distinct messages delivered (a token counts once;
  rows without a token, such as replies, each once), times 1,000.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.accounting import TokenCodes, is_send
from analysis.columns import text_in, text_is, text_map, text_present
from analysis.rates import CATEGORIES, RateCard

COST_COLUMNS = (
    "wa_id",
    "recipient",
    "category",
    "billable",
    "pricing_type",
    "phone_number_id",
    "async_error_code",
    "correlation_id",
    "arrived_at",
)


def _round(value: float) -> float:
    return round(float(value), 6)


def _phone_markets(out: pd.DataFrame, card: RateCard) -> np.ndarray:
    """The market (index into ``card.rates``, -1 when none) of each row's customer number: its ``wa_id``, else its
    ``recipient``, without a leading ``+``. Worked out per distinct number when the columns are categorical (as
    ``load_run`` reads them): a run has far fewer customers than messages."""

    def markets(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        phone = pc.fill_null(array.cast(pa.large_string()), "")
        return market_index(pc.if_else(pc.starts_with(phone, "+"), pc.utf8_slice_codeunits(phone, 1), phone), card)

    by_wa_id = text_map(out["wa_id"], markets, -1)
    by_recipient = text_map(out["recipient"], markets, -1)
    return np.where(text_present(out["wa_id"]), by_wa_id, by_recipient)


def market_index(phones: pa.Array | pa.ChunkedArray, card: RateCard) -> np.ndarray:
    """Index into ``card.rates`` of each number's market (the longest calling-code prefix), -1 when none: the
    vectorised ``RateCard.market_of``, one hash lookup per prefix length instead of a Python loop per row."""
    prefixes = pa.array([rate.prefix for rate in card.rates], type=pa.large_string())
    found = np.full(len(phones), -1, dtype="int64")
    for length in (4, 3, 2, 1):
        head = pc.utf8_slice_codeunits(phones, 0, length)
        hit = pc.fill_null(pc.index_in(head, value_set=prefixes), -1)
        hits = np.asarray(hit.to_numpy(zero_copy_only=False), dtype="int64")
        found = np.where(found < 0, hits, found)
    return found


def priced_rows(ledger: pd.DataFrame, card: RateCard, columns: tuple[str, ...] = COST_COLUMNS) -> pd.DataFrame:
    """Outbound rows (their ``columns`` of the ledger) with ``market``, ``price_usd`` (NaN when unpriced),
    ``charged``, ``delivered``."""
    wanted = [name for name in (*columns, "direction") if name in ledger.columns]
    out = ledger.loc[text_is(ledger["direction"], "outbound"), wanted]
    market = _phone_markets(out, card)
    # price[market, category]: NaN where the card leaves it out; the last row and column stand for "none".
    table = np.full((len(card.rates) + 1, len(CATEGORIES) + 1), np.nan)
    for i, rate in enumerate(card.rates):
        for j, kind in enumerate(CATEGORIES):
            price = rate.price(kind)
            table[i, j] = np.nan if price is None else price
    category = np.full(len(out), len(CATEGORIES), dtype="int64")
    if len(out):
        known = pa.array(CATEGORIES, type=pa.large_string())

        def index(kind: pa.Array | pa.ChunkedArray) -> np.ndarray:
            hit = pc.fill_null(pc.index_in(kind.cast(pa.large_string()), value_set=known), -1)
            return np.asarray(hit.to_numpy(zero_copy_only=False), dtype="int64")

        kinds = text_map(out["category"], index, -1)
        category = np.where(kinds >= 0, kinds, len(CATEGORIES))
    # Categories in the prefixes' text order, so the ``by_market`` groups come out sorted as before.
    names = [rate.prefix for rate in card.rates]
    rank = np.argsort(np.argsort(names, kind="stable"))
    codes = np.where(market >= 0, rank[np.clip(market, 0, None)], -1)
    out["market"] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(sorted(names)))
    out["price_usd"] = table[np.where(market >= 0, market, len(card.rates)), category]
    failed = out["async_error_code"].notna().to_numpy()
    out["delivered"] = ~failed
    billable = flags(out["billable"])
    if card.october_2026 and "pricing_type" in out.columns:
        billable = billable | text_is(out["pricing_type"], "free_customer_service")
    out["charged"] = billable & ~failed
    out["free_allowance"] = False
    if card.october_2026 and card.free_service_per_number_month:
        _free_service_allowance(out, card.free_service_per_number_month)
    return out


def _free_service_allowance(rows: pd.DataFrame, allowance: int) -> None:
    """October 2026 (reported): the first ``allowance`` charged service messages of each business number in a
    calendar month (UTC) are free. Marks them ``free_allowance`` and not ``charged``, in place."""
    service = rows["charged"].to_numpy(dtype=bool) & text_is(rows["category"], "service")
    if not service.any():
        return
    part = rows.loc[service, ["phone_number_id", "arrived_at"]].sort_values("arrived_at", kind="stable")
    month = pd.to_datetime(part["arrived_at"], unit="s", utc=True).dt.strftime("%Y-%m")
    rank = part.groupby([part["phone_number_id"].astype(str), month], sort=False).cumcount()
    free = rank.index[rank.to_numpy() < allowance]
    rows.loc[free, "free_allowance"] = True
    rows.loc[free, "charged"] = False


def _group(rows: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for name, part in rows.groupby(key, sort=True, dropna=False, observed=True):
        label = "unknown" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        priced = part["price_usd"].notna()
        groups[label] = {
            "messages": len(part),
            "unpriced": int((~priced).sum()),
            "cost_usd": _round(part.loc[priced, "price_usd"].sum()),
        }
    return groups


def flags(series: pd.Series) -> np.ndarray:
    """``series.fillna(False)`` as a numpy bool array. A Parquet boolean column with nulls (the ledger's
    ``billable``) reaches pandas as Python objects (True, False, None): those are compared with True in one pass,
    ten times faster than ``fillna`` at 5 million rows, with the same answer for booleans and missing values."""
    if series.dtype == object:
        return np.asarray(np.equal(series.to_numpy(), True), dtype=bool)
    return np.asarray(series.fillna(False).to_numpy(dtype=bool), dtype=bool)


def _all_missing(series: pd.Series) -> bool:
    """``series.isna().all()`` for a boolean column (see ``flags``): no value is True or False."""
    if series.dtype == object:
        values = series.to_numpy()
        return not bool((np.equal(values, True) | np.equal(values, False)).any())
    return bool(series.isna().all())


def failed_tokens(messages: pd.DataFrame, requests: pd.DataFrame | None = None) -> set[str]:
    """Tokens for which the vendor answered a send with a failure or a timeout: the best answer per token
    (``messages``, accounting's ``message_table``) and, given the request records, any single attempt's answer."""
    bad = ("failed", "indeterminate")
    tokens = set(messages.loc[messages["outcome"].isin(bad).to_numpy(dtype=bool), "correlation_id"].astype(str))
    if requests is not None and len(requests):
        answered_badly = (
            text_present(requests["correlation_id"])
            & is_send(requests["operation"])
            & text_in(requests["outcome"], bad)
        )
        tokens.update(requests.loc[answered_badly, "correlation_id"].astype(str))
    return tokens


def cost(
    ledger: pd.DataFrame,
    messages: pd.DataFrame,
    card: RateCard,
    requests: pd.DataFrame | None = None,
    tokens: TokenCodes | None = None,
    *,
    segment: tuple[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The ``cost`` section of summary.json (docs/summary-schema.md). ``messages`` is accounting's
    ``message_table`` (the vendor's best answer per token); ``requests``, the run's request records, adds the
    tokens whose send failed once before a retry got through (re-sent after a failure); ``tokens``, accounting's
    ``token_codes`` of the same frames when already made (else the ledger's tokens are numbered here);
    ``segment``, the tagged broadcast's token and members (``analysis.agents.segment_of``), when the run had one."""
    if "billable" not in ledger.columns or _all_missing(ledger["billable"]):
        return {
            "measured": False,
            "note": "the ledger has no pricing (a mock before late 2026, or no outbound messages)",
            "rate_card": card.describe(),
        }
    outbound = text_is(ledger["direction"], "outbound")
    if tokens is not None:
        # The token numbers stand for the tokens: the outbound rows' text need not be copied nor hashed again.
        rows = priced_rows(ledger, card, tuple(name for name in COST_COLUMNS if name != "correlation_id"))
        codes = tokens.ledger[outbound]
        named = tokens.names
    else:
        rows = priced_rows(ledger, card)
        codes, uniques = pd.factorize(rows["correlation_id"])
        codes = np.asarray(codes, dtype="int64")
        named = pd.Index(uniques)
    codes = np.where(np.isin(codes, _empty_codes(named)), -1, codes)  # an empty token is no token
    charged = rows[rows["charged"]]
    priced = charged["price_usd"].notna()
    total = float(charged.loc[priced, "price_usd"].sum())

    positions, delivered_tokens = _extra_copies(rows, codes)
    extra_rows = rows.iloc[positions]
    failed = _failed_codes(messages, requests, tokens) if tokens is not None else None
    if failed is None:
        failed = _codes_of(named, failed_tokens(messages, requests))
    after_failure = np.isin(codes[positions], failed)

    def spent(part: pd.DataFrame) -> dict[str, Any]:
        paid = part[part["charged"]]
        return {"copies": len(part), "charged": len(paid), "cost_usd": _round(paid["price_usd"].sum())}

    outside = rows.iloc[0:0]
    if segment is not None:
        token, members = segment
        phone = rows["wa_id"].astype("object").where(text_present(rows["wa_id"]), rows["recipient"].astype("object"))
        mask = np.isin(codes, _codes_of(named, {token})) & ~phone.astype(str).isin(members).to_numpy(dtype=bool)
        outside = rows[mask]

    delivered_unique = int(delivered_tokens + (codes[rows["delivered"].to_numpy(dtype=bool)] < 0).sum())
    return {
        "measured": True,
        "rate_card": card.describe(),
        "currency": card.currency,
        "outbound": len(rows),
        "billable": int(flags(rows["billable"]).sum()),
        "charged": len(charged),
        "not_delivered": int((~rows["delivered"]).sum()),
        "free_service_allowance": int(rows["free_allowance"].sum()),
        "unpriced": int((~priced).sum()),
        "unpriced_markets": sorted({"none" if pd.isna(m) else str(m) for m in charged.loc[~priced, "market"].unique()}),
        "total_usd": _round(total),
        "by_category": _group(charged, "category"),
        "by_market": _group(charged, "market"),
        "delivered_messages": delivered_unique,
        "cost_per_1000_delivered_usd": _round(total / delivered_unique * 1000.0) if delivered_unique else None,
        "duplicates": spent(extra_rows),
        "resent_after_failure": spent(extra_rows[after_failure]),
        "outside_segment": spent(outside) if segment is not None else None,
    }


def _extra_copies(rows: pd.DataFrame, codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Positions in ``rows`` of every copy of a token after its first arrival (ordered by ``arrived_at``, ties in
    ledger order), and how many distinct tokens were delivered. ``codes``: each row's token number, -1 without
    a token (none, or an empty one)."""
    present = codes >= 0
    order = np.argsort(rows["arrived_at"].to_numpy(dtype="float64", na_value=np.nan), kind="stable")
    order = order[present[order]]
    ordered = codes[order]
    steps = np.arange(order.size, dtype="int64")
    first = np.zeros(int(codes.max(initial=-1)) + 1, dtype="int64")
    first[ordered[::-1]] = steps[::-1]  # a repeated index keeps the last value assigned: each code's first step
    extra = first[ordered] != steps
    delivered = np.zeros(int(codes.max(initial=-1)) + 1, dtype=bool)
    delivered[codes[present & rows["delivered"].to_numpy(dtype=bool)]] = True
    return order[extra], int(delivered.sum())


def _failed_codes(messages: pd.DataFrame, requests: pd.DataFrame | None, tokens: TokenCodes) -> np.ndarray | None:
    """``_codes_of(tokens.names, failed_tokens(messages, requests))`` by token number: the request rows' numbers in
    ``tokens`` and the messages' own ``token`` column, no hash of the run's tokens. None when the messages were
    numbered otherwise (their ``token`` does not name their ``correlation_id`` in ``tokens``): the caller takes
    the text path."""
    if "token" not in messages.columns:
        return None
    bad = ("failed", "indeterminate")
    chosen = messages.loc[messages["outcome"].isin(bad).to_numpy(dtype=bool), ["correlation_id", "token"]]
    numbers = chosen["token"].to_numpy(dtype="int64")
    if numbers.size and (
        numbers.max() >= len(tokens.names)
        or not np.array_equal(
            tokens.names.take(numbers).astype(str).to_numpy(), chosen["correlation_id"].astype(str).to_numpy()
        )
    ):
        return None
    parts = [numbers]
    if requests is not None and len(requests):
        answered_badly = (
            text_present(requests["correlation_id"])
            & is_send(requests["operation"])
            & text_in(requests["outcome"], bad)
        )
        parts.append(tokens.requests[answered_badly])
    return np.unique(np.concatenate(parts))


def _empty_codes(names: pd.Index) -> np.ndarray:
    """The numbers of the empty token among ``names`` (each token once): from the text's lengths, no hash."""
    if not len(names):
        return np.zeros(0, dtype="int64")
    lengths = pc.fill_null(pc.binary_length(pa.array(names.array)), -1)
    return np.flatnonzero(np.asarray(lengths.to_numpy(zero_copy_only=False)) == 0)


def _codes_of(names: pd.Index, tokens: set[str]) -> np.ndarray:
    """The numbers of ``tokens`` among ``names`` (the numbered tokens, each once); tokens not there are left out.
    One pass over ``names`` against a hash of the few ``tokens``, not a hash of all names."""
    if not tokens or not len(names):
        return np.zeros(0, dtype="int64")
    wanted = pa.array(sorted(tokens), type=pa.large_string())
    found = pc.is_in(pa.array(names.array).cast(pa.large_string()), value_set=wanted)
    return np.flatnonzero(np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool))


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
