"""A reference vendor in front of a sharded mock: each message from the customer's number, straight to its shard."""

from __future__ import annotations

import asyncio

import httpx

from mocks.vendors.graph import GraphClient
from mocks.vendors.settings import VendorSettings
from mocks.whatsapp.shards import sender_for

ROUTES = {"100000000000001": "http://127.0.0.1:9100/", "100000000000002": "http://127.0.0.1:9101"}


def _sent(settings: VendorSettings, sends: list[tuple[str, str | None]]) -> list[str]:
    """The URLs ``sends`` (recipient, number they wrote to or None) reach, through an in-memory transport."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"messages": [{"id": f"wamid.{len(seen)}"}]})

    async def go() -> None:
        client = GraphClient(settings, httpx.MockTransport(answer))
        try:
            for recipient, wrote_to in sends:
                if wrote_to is not None:
                    client.note_customer(recipient, wrote_to)
                await client.send_message({"messaging_product": "whatsapp", "to": recipient, "type": "text"})
        finally:
            await client.aclose()

    asyncio.run(go())
    return seen


def test_one_mock_process_gets_every_message_on_the_configured_number() -> None:
    settings = VendorSettings(whatsapp_url="http://127.0.0.1:9100")
    assert (
        _sent(settings, [("4915100000001", None), ("4915100000002", "100000000000002")])
        == ["http://127.0.0.1:9100/v21.0/100000000000001/messages"] * 2
    )


def test_sharded_a_customer_hears_from_the_number_they_wrote_to_else_from_their_hash() -> None:
    settings = VendorSettings(whatsapp_url="http://127.0.0.1:9100", shard_routes=ROUTES)
    numbers = tuple(sorted(ROUTES))
    strangers = [f"44770090{k:04d}" for k in range(20)]
    wrote = "4915100000001"
    other = next(n for n in numbers if n != sender_for(wrote, numbers))  # not the number the hash would pick
    seen = _sent(settings, [(wrote, other), *((to, None) for to in strangers)])
    assert seen[0] == f"{ROUTES[other].rstrip('/')}/v21.0/{other}/messages"
    for to, url in zip(strangers, seen[1:], strict=True):
        number = sender_for(to, numbers)
        assert url == f"{ROUTES[number].rstrip('/')}/v21.0/{number}/messages"
    assert {url.split("/")[2] for url in seen} == {"127.0.0.1:9100", "127.0.0.1:9101"}


def test_a_number_the_mock_does_not_have_is_not_remembered() -> None:
    settings = VendorSettings(shard_routes=ROUTES)
    seen = _sent(settings, [("4915100000001", "999")])
    number = sender_for("4915100000001", tuple(sorted(ROUTES)))
    assert seen == [f"{ROUTES[number].rstrip('/')}/v21.0/{number}/messages"]
