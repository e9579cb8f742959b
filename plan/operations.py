"""The operation names: what an adapter can be asked to do, and what a scenario's users do.

The vendor operations go through the profile's adapter (``harness.adapters``); a vendor profile lists the ones
it supports. ``customer_message`` is not a vendor call: the users ask the mock to deliver a customer's message
to the vendor as a signed webhook.
"""

from __future__ import annotations

from typing import Literal, get_args

Operation = Literal[
    "send_text",
    "send_template",
    "send_media",
    "upload_media",
    "search_conversations",
    "assign_conversation",
    "health",
    "agent_online",
    "agent_offline",
    "agent_inbox",
    "agent_reply",
    "close_conversation",
    "tag_contact",
    "broadcast_segment",
]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
# The contact-centre side (agents as users of the vendor, tags, segment broadcasts): a dialect without the agent
# ones is reported "not measured" for the agents figures, never zero.
AGENT_OPERATIONS: tuple[Operation, ...] = (
    "agent_online",
    "agent_offline",
    "agent_inbox",
    "agent_reply",
    "close_conversation",
)
# The ones agents cannot do without (log in, read the inbox, reply); offline and close are optional.
AGENT_NEEDED: tuple[Operation, ...] = ("agent_online", "agent_inbox", "agent_reply")
SEGMENT_OPERATIONS: tuple[Operation, ...] = ("tag_contact", "broadcast_segment")
# Operations that change something at the vendor: an unanswered one may have happened (indeterminate).
MUTATING: frozenset[str] = frozenset(
    {
        "send_text",
        "send_template",
        "send_media",
        "upload_media",
        "assign_conversation",
        "agent_online",
        "agent_offline",
        "agent_reply",
        "close_conversation",
        "tag_contact",
        "broadcast_segment",
    }
)

# Operations a scenario's users perform (the task mix of a load plan).
TaskOperation = Literal[
    "send_text", "send_template", "send_media", "upload_media", "search_conversations", "health", "customer_message"
]
