"""Reply linking: which inbound customer message an outbound business message answers.

A reply is linked to the inbound message it quotes (``context.message_id``), or else to the latest unanswered
inbound message from that customer to that business number (the first outbound message after it). The outbound
ledger row then carries ``reply_to_wamid`` and ``inbound_delivered_at``, so reply latency is one subtraction:
``arrived_at - inbound_delivered_at``.

``inbound_delivered_at`` is when the POST that got the receiver's 200 was *sent*: from then on the vendor had the
message. (Its answer time would make a reply sent from inside the webhook handler look negative.) If the reply
arrives before that is known (a retry still pending), the row is filled in when the delivery succeeds.

Rows are changed through ``update`` (``Ledger.update`` in the engine), so a row the ledger already spilled to
Parquet still gets its link columns in every export.

Memory: an inbound message is remembered (its wamid, customer and delivery time) so that later replies can link
to it, up to ``max_tracked`` messages, the oldest forgotten first. Its ledger row is held only until its delivery
is known (the row then gets ``inbound_delivered_at``); after that the tracker keeps a few small fields, never the
row, so a soak's memory does not grow with the ledger rows the ledger itself has already spilled to disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mocks.whatsapp.ledger import LedgerEntry


@dataclass(slots=True)
class _Inbound:
    key: tuple[str, str]  # (phone number id, customer wa_id)
    entry: LedgerEntry | None  # its ledger row, until ``delivered_at`` is known and written to it
    delivered_at: float | None = None
    waiting_replies: list[LedgerEntry] = field(default_factory=list)  # replies linked before the delivery


RowUpdate = Callable[..., None]  # (entry, **columns), e.g. ``Ledger.update``


def _set_columns(entry: LedgerEntry, **columns: Any) -> None:
    for name, value in columns.items():
        setattr(entry, name, value)


class ReplyTracker:
    def __init__(self, max_tracked: int = 500_000, update: RowUpdate = _set_columns) -> None:
        self.max_tracked = max_tracked
        self._update = update
        self._inbound: OrderedDict[str, _Inbound] = OrderedDict()
        self._unanswered: dict[tuple[str, str], str] = {}
        self.linked = 0

    def note_inbound(self, entry: LedgerEntry, wa_id: str) -> None:
        key = (entry.phone_number_id, wa_id)
        self._inbound[entry.wamid] = _Inbound(key, entry)
        self._unanswered[key] = entry.wamid
        while len(self._inbound) > self.max_tracked:  # forget the oldest; a week-long soak stays bounded
            wamid, old = self._inbound.popitem(last=False)
            if self._unanswered.get(old.key) == wamid:
                del self._unanswered[old.key]

    def note_delivered(self, wamid: str, at: float) -> None:
        inbound = self._inbound.get(wamid)
        if inbound is None or inbound.delivered_at is not None:
            return  # unknown, or a duplicate/second subscription: the first delivery counts
        inbound.delivered_at = at
        if inbound.entry is not None:
            self._update(inbound.entry, inbound_delivered_at=at)
            inbound.entry = None  # the row has what it needs; holding it would keep every inbound row alive
        for reply in inbound.waiting_replies:
            self._update(reply, inbound_delivered_at=at)
        inbound.waiting_replies = []

    def delivered_at(self, wamid: str) -> float | None:
        inbound = self._inbound.get(wamid)
        return inbound.delivered_at if inbound else None

    def link(self, reply: LedgerEntry) -> str | None:
        """Fill ``reply``'s link columns if it answers a tracked inbound message; returns that wamid."""
        if not self._inbound:  # every accepted send asks; nothing tracked (no customer wrote yet): nothing to link
            return None
        key = (reply.phone_number_id, reply.wa_id or reply.recipient)
        wamid = reply.context_message_id or ""
        inbound = self._inbound.get(wamid)
        if inbound is None:
            wamid = self._unanswered.get(key) or ""
            inbound = self._inbound.get(wamid)
        if inbound is None:
            return None
        if self._unanswered.get(inbound.key) == wamid:
            del self._unanswered[inbound.key]  # only the first message after the inbound one is its reply
        self._update(reply, reply_to_wamid=wamid, inbound_delivered_at=inbound.delivered_at)
        if inbound.delivered_at is None:
            inbound.waiting_replies.append(reply)
        self.linked += 1
        return wamid

    def __len__(self) -> int:
        """Inbound messages remembered (at most ``max_tracked``)."""
        return len(self._inbound)

    @property
    def rows_held(self) -> int:
        """Ledger rows the tracker keeps alive: inbound rows and replies still waiting for their delivery time."""
        return sum((inbound.entry is not None) + len(inbound.waiting_replies) for inbound in self._inbound.values())

    def reset(self) -> None:
        self._inbound.clear()
        self._unanswered.clear()
        self.linked = 0
