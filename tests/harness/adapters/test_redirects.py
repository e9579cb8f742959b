"""The load never follows the vendor elsewhere: a vendor answering ``307 Location: http://other-host/...`` gets the
307 recorded as its answer (failed, ``http``, the host named), and the other host receives nothing, through every
executor: Locust's (a real, bounded Locust run), the sync and async httpx ones, and ``vendors check``.

Two real servers on 127.0.0.1: the first answers everything with 307 to the second, which counts what reaches it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.adapters.base import HttpRequest, HttpResponse, SendText, interpret_answer, redirect_target
from harness.adapters.executors import AsyncHttpxExecutor, HttpxExecutor
from harness.adapters.locust_executor import LocustExecutor
from harness.adapters.registry import create_adapter, load_profile
from harness.cli import main
from harness.recorder import read_requests

ROOT = Path(__file__).resolve().parents[3]
TO = "+4915112345678"


@dataclass
class Server:
    httpd: ThreadingHTTPServer
    hits: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve(answer: Any) -> Iterator[Server]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            hits.append(f"{self.command} {self.path}")
            status, headers, body = answer(self.path)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(httpd, hits)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    """The host nobody allowed: answers like a happy Cloud API, and counts every request that reaches it."""
    ok = b'{"messages": [{"id": "wamid.elsewhere"}], "status": "ok"}'
    yield from _serve(lambda _path: (200, {"Content-Type": "application/json"}, ok))


@pytest.fixture
def redirecting(elsewhere: Server) -> Iterator[Server]:
    """The vendor: every request answered with 307 to the same path on ``elsewhere``."""
    yield from _serve(lambda path: (307, {"Location": f"{elsewhere.url}{path}"}, b"moved"))


def _profile(tmp_path: Path, base_url: str) -> Path:
    data = yaml.safe_load((ROOT / "vendors" / "cloud-api-mock.yaml").read_text())
    data["base_url"] = base_url
    data["timeouts"] = {"default": 5}
    data.pop("launch", None)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _assert_redirect_recorded(outcome: Any, elsewhere: Server) -> None:
    assert (outcome.result, outcome.error_kind, outcome.http_status, outcome.error_code) == (
        "failed",
        "http",
        307,
        "307",
    ), outcome
    assert f"redirect 307 to 127.0.0.1:{elsewhere.port} not followed" in (outcome.error_text or ""), outcome


def test_the_sync_executor_records_the_307_and_sends_nothing_elsewhere(
    tmp_path: Path, redirecting: Server, elsewhere: Server
) -> None:
    adapter = create_adapter(load_profile(_profile(tmp_path, redirecting.url)), environ={})
    # Even a client made to follow redirects does not, through the executor.
    with httpx.Client(trust_env=False, follow_redirects=True, timeout=5) as client:
        executor = HttpxExecutor(redirecting.url, client=client)
        outcomes = [executor.execute(adapter, adapter.build(SendText(TO, "hello", f"sb-redir-{n}"))) for n in range(5)]
    for outcome in outcomes:
        _assert_redirect_recorded(outcome, elsewhere)
    assert len(redirecting.hits) == 5
    assert elsewhere.hits == []


def test_the_async_executor_records_the_307_and_sends_nothing_elsewhere(
    tmp_path: Path, redirecting: Server, elsewhere: Server
) -> None:
    adapter = create_adapter(load_profile(_profile(tmp_path, redirecting.url)), environ={})

    async def load() -> list[Any]:
        async with httpx.AsyncClient(trust_env=False, follow_redirects=True, timeout=5) as client:
            executor = AsyncHttpxExecutor(redirecting.url, client=client)
            calls = [executor.execute(adapter, adapter.build(SendText(TO, "hi", f"sb-redir-{n}"))) for n in range(5)]
            return list(await asyncio.wait_for(asyncio.gather(*calls), timeout=30))

    for outcome in asyncio.run(load()):
        _assert_redirect_recorded(outcome, elsewhere)
    assert len(redirecting.hits) == 5
    assert elsewhere.hits == []


@pytest.mark.slow
def test_a_locust_run_records_every_307_and_sends_nothing_elsewhere(
    tmp_path: Path, redirecting: Server, elsewhere: Server
) -> None:
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "harness.adapters.locust_probe", str(_profile(tmp_path, redirecting.url)),
         str(run_dir), "--requests", "12", "--seconds", "20", "--users", "2", "--operations", "send_text,health"],
        capture_output=True, text=True, timeout=90, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_requests(run_dir).to_pylist()
    assert len(rows) == 12
    assert {(row["outcome"], row["error_kind"], row["status"], row["error_code"]) for row in rows} == {
        ("failed", "http", 307, "307")
    }
    texts = {row["error_text"] for row in rows}
    assert texts == {f"redirect 307 to 127.0.0.1:{elsewhere.port} not followed (the load only goes to allowed targets)"}
    assert {row["operation"] for row in rows} == {"send_text", "health"}
    assert len(redirecting.hits) == 12
    assert elsewhere.hits == []


def test_vendors_check_shows_the_redirect_and_sends_nothing_elsewhere(
    tmp_path: Path, redirecting: Server, elsewhere: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["vendors", "check", str(_profile(tmp_path, redirecting.url))]) == 1
    out = capsys.readouterr().out
    assert "redirect 307 to" in out and str(elsewhere.port) in out
    assert redirecting.hits and elsewhere.hits == []


class _FakeResponse:
    def __init__(self) -> None:
        self.status_code = 302
        self.content = b""
        self.headers = {"location": "https://other.example:8443/v23.0/messages"}
        self.request_meta: dict[str, Any] = {"context": {}, "response_time": 3.0}
        self.marked: tuple[str, Any] | None = None

    def __enter__(self) -> _FakeResponse:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def success(self) -> None:
        self.marked = ("success", None)

    def failure(self, text: str) -> None:
        self.marked = ("failure", text)


class HttpSession:
    """Stands in for Locust's requests-based client (its class name selects the per-request timeout)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.response = _FakeResponse()

    def request(self, method: str, path: str, **kwargs: Any) -> _FakeResponse:
        self.calls.append(kwargs)
        return self.response


def test_the_locust_executor_asks_either_locust_client_not_to_follow() -> None:
    adapter = create_adapter(load_profile(ROOT / "vendors" / "cloud-api-mock.yaml"), environ={})
    client = HttpSession()
    executor = LocustExecutor(client, base_url="http://127.0.0.1:8900")
    outcome = executor.execute(adapter, adapter.build(SendText(TO, "hello", "sb-redir-1")))
    assert client.calls[0]["allow_redirects"] is False
    assert outcome.error_text and "redirect 302 to other.example:8443 not followed" in outcome.error_text
    assert client.response.marked and client.response.marked[0] == "failure"
    assert client.response.request_meta["context"]["http_status"] == 302


def test_the_redirect_target_is_named_from_any_location() -> None:
    base = "http://127.0.0.1:8900/v23.0/1/messages"
    assert redirect_target("http://other.example:8080/x", base) == "to other.example:8080"
    assert redirect_target("https://Other.Example/x", base) == "to other.example"
    assert redirect_target("/elsewhere", base) == "to 127.0.0.1:8900"
    assert redirect_target("//[::1]:9000/x", base) == "to [::1]:9000"
    assert redirect_target("", base) == "without a Location"
    assert redirect_target("http://bad:port/", base).startswith("to an unreadable Location")
    request = HttpRequest("health", "GET", "/health")
    adapter = create_adapter(load_profile(ROOT / "vendors" / "cloud-api-mock.yaml"), environ={})
    moved = interpret_answer(adapter, request, HttpResponse(301, b"", {"Location": "http://x.test/"}), base)
    assert (moved.result, moved.error_kind, moved.http_status) == ("failed", "http", 301)
    assert moved.error_text == "redirect 301 to x.test not followed (the load only goes to allowed targets)"
