"""The contract smoke test behind ``scrmbench vendors check``: one call per declared operation, in an order
where each call can use what the previous ones produced (an uploaded media id, a conversation found).

It is a check of the dialect, not a load test: a handful of requests, each with a correlation token, each shown
with its outcome so a broken profile is found before anyone spends an hour on a trial.

A declared operation the check could not call is ``not exercised`` (with the reason), never passed: today that is
``assign_conversation`` when no conversation id is known (pass one, or declare ``search_conversations`` on a
vendor that has conversations). The check then did not prove the contract, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ground.correlation import make_token, new_run_tag
from harness.adapters.base import (
    AgentOffline,
    AgentOnline,
    AgentReply,
    BroadcastSegment,
    CloseConversation,
    Outcome,
    ReadInbox,
    TagContact,
)
from harness.adapters.executors import VendorClient
from harness.adapters.samples import SMOKE_JPEG, SMOKE_LINK

ORDER = (
    "health",
    "upload_media",
    "send_text",
    "send_template",
    "send_media",
    "search_conversations",
    "assign_conversation",
    "tag_contact",
    "agent_online",
    "agent_inbox",
    "agent_reply",
    "close_conversation",
    "agent_offline",
    "broadcast_segment",
)
CHECK_TAG = "scrmbench-check"


NOT_EXERCISED = "not exercised"


@dataclass(frozen=True)
class CheckRow:
    operation: str
    result: str  # ok | failed | indeterminate | not exercised
    http_status: int = 0
    latency_ms: float | None = None
    vendor_id: str = ""
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Called and answered as the contract says; an operation that was not exercised did not pass."""
        return self.result == "ok"

    @property
    def exercised(self) -> bool:
        return self.result != NOT_EXERCISED


def _row(outcome: Outcome, vendor_id: str = "", note: str = "") -> CheckRow:
    detail = note if outcome.ok else f"{outcome.error_kind} {outcome.error_code or ''}: {outcome.error_text or ''}"
    return CheckRow(
        outcome.operation,
        outcome.result,
        outcome.http_status,
        outcome.latency_ms,
        vendor_id or outcome.vendor_message_id or "",
        detail.strip(),
    )


def _transient(outcome: Outcome) -> bool:
    return outcome.error_kind in ("timeout", "transport") or outcome.http_status >= 500


def _once_more(call: Callable[[], Outcome]) -> tuple[Outcome, str]:
    """Call; a transient failure (5xx, timeout, transport) is retried once, since the check is about the
    dialect's shape, not the vendor's reliability. The first failure stays visible in the detail."""
    outcome = call()
    if outcome.ok or not _transient(outcome):
        return outcome, ""
    first = f"passed on retry after {outcome.http_status or outcome.error_kind} {outcome.error_code or ''}".strip()
    retried = call()
    return retried, first if retried.ok else ""


def _call_for(
    operation: str, client: VendorClient, found: dict[str, Any], to: str, agent: str, token: str
) -> Callable[[], Outcome] | None:
    """The call to make for ``operation``, using what earlier calls found; None when there is nothing to call."""
    media_id = found.get("media_id")
    calls: dict[str, Callable[[], Outcome]] = {
        "health": lambda: client.health(),
        "upload_media": lambda: client.upload_media(SMOKE_JPEG, "image/jpeg", "smoke.jpg"),
        "send_text": lambda: client.send_text(to, "scrmbench contract check", correlation_id=token),
        "send_template": lambda: client.send_template(to, "hello_world", ("check",), correlation_id=token),
        "send_media": lambda: client.send_media(
            to,
            "image",
            media_id=media_id,
            link=None if media_id else SMOKE_LINK,
            caption="scrmbench contract check",
            content=SMOKE_JPEG,
            filename="smoke.jpg",
            correlation_id=token,
        ),
        "search_conversations": lambda: client.search_conversations("", 5),
    }
    if operation == "assign_conversation":
        conversation = found.get("conversation_id")
        return (lambda: client.assign_conversation(str(conversation), agent)) if conversation else None
    agents = _agent_calls(operation, client, found, to, agent, token)
    if agents is not None or operation in AGENT_CHECKS:
        return agents
    return calls[operation]


AGENT_CHECKS = frozenset(ORDER[ORDER.index("tag_contact") :])


def _agent_calls(
    operation: str, client: VendorClient, found: dict[str, Any], to: str, agent: str, token: str
) -> Callable[[], Outcome] | None:
    """The contact-centre calls: the agent's own inbox item, else a conversation search found, for reply and close."""
    item = found.get("inbox_item") or {}
    conversation = item.get("conversation_id") or found.get("conversation_id")
    customer = str(item.get("customer") or to)
    calls: dict[str, Callable[[], Outcome]] = {
        "tag_contact": lambda: client.call(TagContact(to, CHECK_TAG)),
        "agent_online": lambda: client.call(AgentOnline(agent)),
        "agent_inbox": lambda: client.call(ReadInbox(agent)),
        "agent_offline": lambda: client.call(AgentOffline(agent)),
        "broadcast_segment": lambda: client.call(
            BroadcastSegment(CHECK_TAG, "hello_world", params=("check",), correlation_id=token)
        ),
    }
    if operation in ("agent_reply", "close_conversation"):
        if not conversation:
            return None
        if operation == "agent_reply":
            return lambda: client.call(
                AgentReply(agent, str(conversation), customer, "scrmbench contract check", token)
            )
        return lambda: client.call(CloseConversation(agent, str(conversation)))
    return calls.get(operation)


def _why_no_conversation(client: VendorClient, rows: list[CheckRow]) -> str:
    search = next((row for row in rows if row.operation == "search_conversations"), None)
    if "search_conversations" not in client.capabilities or search is None:
        why = "search_conversations is not declared, so no conversation id is known"
    elif not search.passed:
        why = "search_conversations failed, so no conversation id is known"
    else:
        why = "search_conversations found no conversation"
    return f"{why}; pass --conversation ID (or seed the vendor)"


def smoke_test(
    client: VendorClient,
    *,
    to: str,
    agent: str = "agent-1",
    run_tag: str | None = None,
    conversation_id: str | None = None,
) -> list[CheckRow]:
    """One call per declared operation; ``conversation_id`` (else the first one search finds) is assigned."""
    tag = run_tag or new_run_tag()
    found: dict[str, Any] = {}
    rows: list[CheckRow] = []
    for sequence, operation in enumerate(ORDER):
        if operation not in client.capabilities:
            continue
        if operation == "assign_conversation" and conversation_id:
            found["conversation_id"] = conversation_id
        call = _call_for(operation, client, found, to, agent, make_token(tag, 0, sequence))
        if call is None:
            why = _why_no_conversation(client, rows)
            if operation in AGENT_CHECKS:
                why = f"no conversation in the agent's inbox and {why[0].lower()}{why[1:]}"
            rows.append(CheckRow(operation, NOT_EXERCISED, detail=why))
            continue
        outcome, note = _once_more(call)
        shown = outcome.vendor_message_id or ""
        if operation == "upload_media":
            found["media_id"] = outcome.data.get("media_id")
            shown = str(found["media_id"] or "")
        elif operation == "agent_inbox":
            items = outcome.data.get("items") or []
            found["inbox_item"] = items[0] if items else None
            shown = f"{len(items)} assigned" if outcome.ok else ""
        elif operation == "search_conversations":
            items = outcome.data.get("items") or []
            first = items[0] if items and isinstance(items[0], dict) else {}
            found["conversation_id"] = first.get("id") or first.get("conversation_id")  # generic-http: inbox paths
            shown = f"{outcome.data.get('total', '')} found" if outcome.ok else ""
        rows.append(_row(outcome, shown, note))
    return rows
