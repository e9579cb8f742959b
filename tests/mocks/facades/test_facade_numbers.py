"""The Twilio and WATI facades send from the business number a request names (Twilio ``From``, WATI
``channelPhoneNumber`` / ``channel_number``): the mock's ledger shows that number's phone-number id; a number the
facade does not have is refused (Twilio: 400 / 63007) and never reaches the mock."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from mocks.facades.common import DEV_KEYS, DEV_TWILIO_ACCOUNT_SID, Dialect
from mocks.facades.launch import facade_process
from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from tests.fixtures.facades import FacadeStack
from tests.fixtures.mock_server import MockServer, start_mock_server

pytestmark = pytest.mark.anyio

DEFAULT_ID, SECOND_ID = "100000000000001", "100000000000002"
DEFAULT_DIGITS, SECOND_DIGITS, UNKNOWN_DIGITS = "15550000001", "15550000002", "15550000099"
CUSTOMER = "4915112345678"
MESSAGES = f"/2010-04-01/Accounts/{DEV_TWILIO_ACCOUNT_SID}/Messages.json"


def two_number_config() -> MockConfig:
    numbers = [
        PhoneNumberConfig(id=DEFAULT_ID, display_phone_number=DEFAULT_DIGITS),
        PhoneNumberConfig(id=SECOND_ID, display_phone_number=SECOND_DIGITS),
    ]
    return MockConfig(limits=LimitsConfig(enabled=False, enforce_customer_window=False), phone_numbers=numbers)


def twilio_auth() -> dict[str, str]:
    pair = f"{DEV_TWILIO_ACCOUNT_SID}:{DEV_KEYS['twilio']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def wati_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEV_KEYS['wati']}"}


@pytest.fixture
def two_numbers(facade_stack: Callable[..., Awaitable[FacadeStack]]) -> Callable[[Dialect], Awaitable[FacadeStack]]:
    """The dialect's facade knowing the second number, in front of an in-process mock with both numbers."""

    async def make(dialect: Dialect) -> FacadeStack:
        return await facade_stack(dialect, config=two_number_config(), numbers={SECOND_DIGITS: SECOND_ID})

    return make


def twilio_form(to: str, sender: str) -> dict[str, str]:
    return {"To": f"whatsapp:+{to}", "From": f"whatsapp:+{sender}", "Body": "hello"}


async def test_twilio_from_picks_the_number_the_message_goes_out_from(two_numbers):
    stack = await two_numbers("twilio")
    second = await stack.client.post(MESSAGES, data=twilio_form("4915100000002", SECOND_DIGITS), headers=twilio_auth())
    default = await stack.client.post(
        MESSAGES, data=twilio_form("4915100000001", DEFAULT_DIGITS), headers=twilio_auth()
    )
    assert second.status_code == 201 and default.status_code == 201, (second.text, default.text)
    assert second.json()["from"] == f"whatsapp:+{SECOND_DIGITS}"
    assert await stack.senders() == {"4915100000002": SECOND_ID, "4915100000001": DEFAULT_ID}


async def test_twilio_refuses_a_from_it_has_no_channel_for_with_63007(two_numbers):
    stack = await two_numbers("twilio")
    answer = await stack.client.post(MESSAGES, data=twilio_form(CUSTOMER, UNKNOWN_DIGITS), headers=twilio_auth())
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 63007 and body["more_info"].endswith("/63007") and "From" in body["message"]
    assert await stack.ledger() == []


async def test_wati_session_message_goes_out_from_channel_phone_number(two_numbers):
    stack = await two_numbers("wati")
    second = await stack.client.post(
        "/api/v1/sendSessionMessage/4915100000002",
        params={"messageText": "hi", "channelPhoneNumber": SECOND_DIGITS},
        headers=wati_auth(),
    )
    default = await stack.client.post(
        "/api/v1/sendSessionMessage/4915100000001", params={"messageText": "hi"}, headers=wati_auth()
    )
    assert second.json()["result"] is True and default.json()["result"] is True, (second.text, default.text)
    assert await stack.senders() == {"4915100000002": SECOND_ID, "4915100000001": DEFAULT_ID}


async def test_wati_template_goes_out_from_channel_number(two_numbers):
    stack = await two_numbers("wati")
    body = {"template_name": "promo", "broadcast_name": "b", "parameters": [], "channel_number": SECOND_DIGITS}
    answer = await stack.client.post(
        "/api/v1/sendTemplateMessage", params={"whatsappNumber": CUSTOMER}, json=body, headers=wati_auth()
    )
    assert answer.json()["result"] is True, answer.text
    assert await stack.senders() == {CUSTOMER: SECOND_ID}


async def test_wati_refuses_a_channel_it_does_not_have(two_numbers):
    stack = await two_numbers("wati")
    session = await stack.client.post(
        f"/api/v1/sendSessionMessage/{CUSTOMER}",
        params={"messageText": "hi", "channelPhoneNumber": UNKNOWN_DIGITS},
        headers=wati_auth(),
    )
    body = {"template_name": "promo", "parameters": [], "channel_number": UNKNOWN_DIGITS}
    template = await stack.client.post(
        "/api/v1/sendTemplateMessage", params={"whatsappNumber": CUSTOMER}, json=body, headers=wati_auth()
    )
    for answer in (session, template):
        assert answer.status_code == 200 and answer.json()["result"] is False
        assert UNKNOWN_DIGITS in answer.json()["info"]
    assert await stack.ledger() == []


@pytest.fixture
def two_number_mock(tmp_path: Path) -> Iterator[MockServer]:
    server = start_mock_server(two_number_config(), tmp_path)
    try:
        yield server
    finally:
        server.process.stop()


@pytest.mark.slow
def test_a_launched_facade_takes_its_numbers_from_the_command_line(two_number_mock, tmp_path):
    service, base_url = facade_process(
        "twilio", two_number_mock.base_url, log_path=tmp_path / "facade.log", numbers={SECOND_DIGITS: SECOND_ID}
    )
    with service:
        answer = httpx.post(
            f"{base_url}{MESSAGES}", data=twilio_form(CUSTOMER, SECOND_DIGITS), headers=twilio_auth(), timeout=10
        )
        assert answer.status_code == 201, answer.text
    ledger = httpx.get(
        f"{two_number_mock.base_url}/_mock/ledger", headers=two_number_mock.admin_headers, timeout=10
    ).text
    rows = [orjson.loads(line) for line in ledger.splitlines() if line.strip()]
    assert [(row["recipient"], row["phone_number_id"]) for row in rows] == [(CUSTOMER, SECOND_ID)]
