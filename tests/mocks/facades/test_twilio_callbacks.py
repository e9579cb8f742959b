"""Twilio status callbacks end to end: the twilio adapter sends with ``StatusCallback`` through a real facade
process in front of a real mock process; a loopback receiver gets the callbacks, checks their
``X-Twilio-Signature`` with its own implementation of Twilio's algorithm, and the statuses follow the mock's
ladder."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ground.net import free_port
from harness.adapters.executors import connect
from harness.adapters.registry import parse_profile
from mocks.facades.common import DEV_KEYS, DEV_TWILIO_ACCOUNT_SID
from mocks.facades.launch import facade_process
from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from mocks.whatsapp.webhooks.config import Delay, LadderConfig, WebhookConfig
from tests.fixtures.mock_server import MockServer, start_mock_server

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
AUTH_TOKEN = DEV_KEYS["twilio"]
TO = "+4915112345678"


def expected_signature(token: str, url: str, form: dict[str, str]) -> str:
    """Twilio's documented algorithm, written independently of the facade's code."""
    data = url
    for key in sorted(form):
        data += key + form[key]
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Callback:
    url: str
    form: dict[str, str]
    signature: str | None


class StatusReceiver:
    """A loopback HTTP server recording form POSTs, in a thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/twilio/status"
        self.received: list[Callback] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def _post(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        with self._lock:
            self.received.append(Callback(str(request.url), form, request.headers.get("x-twilio-signature")))
        return PlainTextResponse("")

    def for_sid(self, sid: str) -> list[Callback]:
        with self._lock:
            return [c for c in self.received if c.form.get("MessageSid") == sid]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not predicate():
            time.sleep(0.02)
        return predicate()

    def start(self) -> None:
        app = Starlette(routes=[Route("/twilio/status", self._post, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off")
        server = uvicorn.Server(config)
        started = threading.Event()

        async def serve() -> None:
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.01)
            started.set()
            await task

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        if not started.wait(15) or not server.started:
            raise RuntimeError(f"status receiver did not start on port {self.port}")
        self._server = server

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)


@pytest.fixture
def status_receiver() -> Iterator[StatusReceiver]:
    receiver = StatusReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def ladder_mock(tmp_path: Path, **ladder: Any) -> MockServer:
    fast = Delay(distribution="fixed", ms=30)
    config = MockConfig(
        limits=LimitsConfig(enabled=False, enforce_customer_window=False),
        webhooks=WebhookConfig(
            ladder=LadderConfig(
                sent=fast, delivered=fast, read=fast, read_receipts_off_share=0.0, skip_delivered_share=0.0, **ladder
            )
        ).model_dump(),
    )
    return start_mock_server(config, tmp_path)


def twilio_vendor(base_url: str, status_callback: str | None) -> Any:
    data = yaml.safe_load((VENDORS / "twilio-facade.yaml").read_text())
    data["base_url"] = base_url
    if status_callback:
        data["options"]["status_callback"] = status_callback
    return connect(parse_profile(data, source="twilio-facade.yaml"))


@pytest.fixture
def mock_factory(tmp_path: Path) -> Iterator[Callable[..., MockServer]]:
    started: list[MockServer] = []

    def make(**ladder: Any) -> MockServer:
        server = ladder_mock(tmp_path, **ladder)
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.process.stop()


pytestmark = pytest.mark.slow


def _check_signed(callbacks: list[Callback], url: str) -> None:
    for callback in callbacks:
        assert callback.url == url
        assert callback.signature == expected_signature(AUTH_TOKEN, url, callback.form), callback.form
        assert callback.signature != expected_signature("another-token", url, callback.form)


def test_callbacks_follow_the_mock_ladder_signed_like_twilio(mock_factory, facade_server, status_receiver) -> None:
    mock = mock_factory(read_share=1.0, failed_rate=0.0)
    facade = facade_server("twilio", mock.base_url)
    vendor = twilio_vendor(facade.base_url, status_receiver.url)
    outcomes = [vendor.send_text(TO, f"hello {i}", correlation_id=f"sb-cb0001-{i}") for i in range(3)]
    assert all(o.ok and o.vendor_message_id for o in outcomes), outcomes
    for outcome in outcomes:
        sid = outcome.vendor_message_id
        assert status_receiver.wait_for(lambda sid=sid: len(status_receiver.for_sid(sid)) >= 4), (
            status_receiver.for_sid(sid),
            httpx.get(f"{facade.base_url}/_facade/twilio/callbacks").json(),
        )
        callbacks = status_receiver.for_sid(sid)
        assert [c.form["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered", "read"]
        _check_signed(callbacks, status_receiver.url)
        for c in callbacks:
            assert c.form["To"] == f"whatsapp:{TO}"
            assert c.form["From"] == "whatsapp:+15550000001"
            assert c.form["AccountSid"] == DEV_TWILIO_ACCOUNT_SID
            assert c.form["SmsStatus"] == c.form["MessageStatus"] and "ErrorCode" not in c.form
    stats = httpx.get(f"{facade.base_url}/_facade/twilio/callbacks").json()
    assert stats["subscribed"] and stats["posted"] == 12 and stats["failed"] == stats["bad_webhooks"] == 0


def test_an_async_failure_is_queued_then_failed_with_an_error_code(
    mock_factory, facade_server, status_receiver
) -> None:
    mock = mock_factory(failed_rate=1.0, failed_codes=[131026])
    facade = facade_server("twilio", mock.base_url)
    outcome = twilio_vendor(facade.base_url, status_receiver.url).send_text(TO, "hi", correlation_id="sb-cb0002-1")
    assert outcome.ok, outcome
    sid = outcome.vendor_message_id
    assert status_receiver.wait_for(lambda: len(status_receiver.for_sid(sid)) >= 2)
    callbacks = status_receiver.for_sid(sid)
    assert [c.form["MessageStatus"] for c in callbacks] == ["queued", "failed"]
    assert callbacks[1].form["ErrorCode"] == "63003"
    _check_signed(callbacks, status_receiver.url)


def test_no_callback_url_no_subscription_and_a_far_url_is_refused(mock_factory, facade_server, status_receiver) -> None:
    mock = mock_factory()
    facade = facade_server("twilio", mock.base_url)
    assert twilio_vendor(facade.base_url, None).send_text(TO, "no callback", correlation_id="sb-cb0003-1").ok
    subscriptions = httpx.get(f"{mock.base_url}/_mock/subscriptions", headers=mock.admin_headers).json()
    assert subscriptions["subscriptions"] == []  # the facade subscribes only once a callback is asked for
    far = twilio_vendor(facade.base_url, "http://203.0.113.7/status").send_text(TO, "x", correlation_id="sb-cb0003-2")
    assert (far.ok, far.http_status, far.error_code) == (False, 400, "21609"), far
    ledger = httpx.get(f"{mock.base_url}/_mock/ledger", params={"format": "ndjson"}, headers=mock.admin_headers)
    assert b"sb-cb0003-2" not in ledger.content  # refused before anything was forwarded
    assert status_receiver.received == []


def test_a_message_from_a_second_number_gets_its_callbacks_too(tmp_path, status_receiver) -> None:
    second_id, second = "100000000000002", "15550000002"
    fast = Delay(distribution="fixed", ms=30)
    ladder = LadderConfig(sent=fast, delivered=fast, read_share=0.0, skip_delivered_share=0.0, failed_rate=0.0)
    config = MockConfig(
        limits=LimitsConfig(enabled=False, enforce_customer_window=False),
        phone_numbers=[PhoneNumberConfig(id="100000000000001"), PhoneNumberConfig(id=second_id)],
        webhooks=WebhookConfig(ladder=ladder).model_dump(),
    )
    mock = start_mock_server(config, tmp_path)
    service, base_url = facade_process(
        "twilio", mock.base_url, log_path=tmp_path / "facade.log", numbers={second: second_id}
    )
    try:
        with service:
            pair = base64.b64encode(f"{DEV_TWILIO_ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            form = {
                "To": f"whatsapp:{TO}",
                "From": f"whatsapp:+{second}",
                "Body": "hi",
                "StatusCallback": status_receiver.url,
            }
            created = httpx.post(
                f"{base_url}/2010-04-01/Accounts/{DEV_TWILIO_ACCOUNT_SID}/Messages.json",
                data=form,
                headers={"Authorization": f"Basic {pair}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text
            sid = created.json()["sid"]
            assert status_receiver.wait_for(lambda: len(status_receiver.for_sid(sid)) >= 3), status_receiver.for_sid(
                sid
            )
            callbacks = status_receiver.for_sid(sid)
            assert [c.form["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered"]
            assert {c.form["From"] for c in callbacks} == {f"whatsapp:+{second}"}
    finally:
        mock.process.stop()
