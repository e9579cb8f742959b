"""The operation names: what an adapter can be asked to do, and what a scenario's users do.

The vendor operations go through the profile's adapter (``harness.adapters``); a vendor profile lists the ones
it supports. ``customer_message`` is not a vendor call: the users ask the mock to deliver a customer's message
to the vendor as a signed webhook.
"""

from __future__ import annotations

from typing import Literal

Operation = Literal[
    "send_text", "send_template", "send_media", "upload_media", "search_conversations", "assign_conversation", "health"
]
OPERATIONS: tuple[Operation, ...] = (
    "send_text",
    "send_template",
    "send_media",
    "upload_media",
    "search_conversations",
    "assign_conversation",
    "health",
)
# Operations that change something at the vendor: an unanswered one may have happened (indeterminate).
MUTATING: frozenset[str] = frozenset(
    {"send_text", "send_template", "send_media", "upload_media", "assign_conversation"}
)

# Operations a scenario's users perform (the task mix of a load plan).
TaskOperation = Literal[
    "send_text", "send_template", "send_media", "upload_media", "search_conversations", "health", "customer_message"
]
