"""An injected ``outage`` with ``mode: drop`` closes the socket without a status line (real server, raw socket)."""

from __future__ import annotations

import socket

import httpx
import orjson

from tests.fixtures.mock_server import MockServer
from tests.mocks.whatsapp.helpers import PNID, SEND, text

MAX_READS = 64  # bounded: the server closes at once; each read also times out


def _raw_post(host: str, port: int, path: str, token: str, body: bytes) -> bytes:
    """Everything the server sends back on one connection until it closes it (or resets it: b"")."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    received = b""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        for _ in range(MAX_READS):
            try:
                chunk = sock.recv(65_536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        else:
            raise AssertionError(f"the server kept the connection open; got {received[:200]!r}")
    return received


def test_drop_closes_the_connection_before_any_response_byte(mock_server: MockServer) -> None:
    base, admin = mock_server.base_url, mock_server.admin_headers
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    token = mock_server.graph_headers["Authorization"].split()[-1]
    body = orjson.dumps(text())
    healthy = _raw_post(host, port, SEND, token, body)
    assert healthy.startswith(b"HTTP/1.1 ")  # without the fault the same raw request gets a status line
    fault = httpx.post(f"{base}/_mock/faults", json={"kind": "outage", "mode": "drop"}, headers=admin).json()
    for _ in range(3):  # every request on a new connection is dropped, and the server keeps accepting
        assert _raw_post(host, port, SEND, token, body) == b""
    with httpx.Client(base_url=base, headers=mock_server.graph_headers) as client:
        try:
            client.post(f"/v22.0/{PNID}/messages", json=text())
        except httpx.RemoteProtocolError as exc:
            assert "without sending" in str(exc)  # h11: "Server disconnected without sending a response."
        except httpx.TransportError:
            pass  # a reset is a dropped connection too
        else:
            raise AssertionError("a dropped connection must not produce a response")
    httpx.delete(f"{base}/_mock/faults/{fault['id']}", headers=admin)
    assert _raw_post(host, port, SEND, token, body).startswith(b"HTTP/1.1 ")
    log = mock_server.process.log_path.read_text() if mock_server.process.log_path else ""
    assert "Traceback" not in log and "Internal Server Error" not in log and "without starting" not in log
