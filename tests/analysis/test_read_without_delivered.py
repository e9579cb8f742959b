"""A message read at once gets no ``delivered`` status webhook (docs/whatsapp-2026.md §5); the accounting still
counts it delivered and billable: it reads the mock's ledger (what reached WhatsApp), never the status ladder."""

from __future__ import annotations

from typing import Any

from analysis import accounting as acc
from ground.clock import FakeClock
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.send import admit
from mocks.whatsapp.state import MockState
from mocks.whatsapp.validation import parse_send
from mocks.whatsapp.webhooks.config import WebhookConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from tests.analysis import frames as f

PNID = "100000000000001"


def test_read_without_delivered_counts_as_delivered_and_billable() -> None:
    state = MockState(MockConfig(), FakeClock(f.T0))
    ladder = {"failed_rate": 0.0, "read_share": 1.0, "read_receipts_off_share": 0.0, "skip_delivered_share": 1.0}
    engine = WebhookEngine(state, WebhookConfig.model_validate({"ladder": ladder}))
    engine.subscriptions.add(callback_url="http://127.0.0.1:9/hook", skip_verification=True)
    statuses: list[str] = []

    def capture(update: Any, subscription: Any, *, delay_s: float = 0.0) -> bool:
        statuses.append(update.body["status"])
        return True

    engine.dispatcher.submit = capture  # type: ignore[method-assign]
    state.on_accepted.append(engine.on_accepted)
    body = {
        "messaging_product": "whatsapp",
        "to": "4915112345678",
        "type": "template",
        "template": {"name": "promo", "language": {"code": "en_US"}, "components": []},
        "biz_opaque_callback_data": "sb-abc123-1",
    }
    state.accepted(admit(state, PNID, parse_send(body), 100))
    assert statuses == ["sent", "read"]  # no delivered webhook

    ledger = state.ledger.table_since().to_pandas()
    assert ledger["billable"].tolist() == [True] and ledger["async_error_code"].isna().all()
    requests = f.requests([f.request(0.0, correlation_id="sb-abc123-1", operation="send_template")])
    figures = acc.accounting(acc.message_table(requests, ledger))
    assert (figures["delivered"], figures["lost"], figures["acked_delivered"]) == (1, 0, 1)
