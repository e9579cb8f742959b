from __future__ import annotations

from mocks.vendors.routing import AutoReplies
from mocks.vendors.settings import DEFAULT_AUTO_REPLIES, DEFAULT_FALLBACK_REPLY, VendorSettings


def test_keyword_picks_its_reply_whole_words_only() -> None:
    replies = AutoReplies({"price": "P", "discount": "D"}, fallback="F")
    assert replies.reply_for("What is the PRICE?") == "P"
    assert replies.reply_for("Any discount code?") == "D"
    assert replies.reply_for("priceless") == "F"


def test_unmatched_message_gets_the_first_response_acknowledgement() -> None:
    replies = AutoReplies(DEFAULT_AUTO_REPLIES, fallback=DEFAULT_FALLBACK_REPLY)
    assert replies.reply_for("Can I change my delivery address?") == DEFAULT_FALLBACK_REPLY


def test_fallback_can_be_turned_off() -> None:
    assert AutoReplies({"price": "P"}, fallback=None).reply_for("hello") is None


def test_settings_default_to_a_fallback_reply() -> None:
    assert VendorSettings().fallback_reply == DEFAULT_FALLBACK_REPLY
