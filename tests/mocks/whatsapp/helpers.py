"""Small builders shared by the mock's tests."""

from __future__ import annotations

import socket
from typing import Any

from starlette.applications import Starlette

from ground.net import free_port

PNID = "100000000000001"
SEND = f"/v22.0/{PNID}/messages"
ADMIN = {"Authorization": "Bearer mock-admin-token"}


def text(to: str = "4915112345678", body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}, **extra}


def template(to: str = "4915112345678", params: tuple[str, ...] = (), name: str = "hello") -> dict[str, Any]:
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}] if params else []
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "en_US"}, "components": components},
    }


def open_window(app: Starlette, wa_id: str = "4915112345678", pnid: str = PNID) -> None:
    state = app.state.mock
    state.customers.note_inbound(pnid, wa_id, state.clock.now())


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def two_free_ports() -> int:
    """A free loopback port whose next port is free too (a sharded mock takes port and port + 1)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")
