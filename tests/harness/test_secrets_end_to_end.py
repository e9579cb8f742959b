"""A real ``scrmbench run`` and ``scrmbench report`` against a hostile loopback vendor (issue 10).

The vendor echoes the Authorization header it receives into its error texts, error codes and message ids, and
wraps them in script and attribute-breaking markup. Afterwards no file of the results folder (Parquet decoded,
logs, JSON, YAML, CSV, HTML) and nothing the commands printed may hold the secret, and the scorecard built from
the run must show the markup as text and execute none of it in headless Chromium.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from analysis.scorecard.browser import dump_dom, find_chromium
from ground.secrets import REDACTED
from harness.recorder import read_requests
from tests.fixtures.browser_checks import console_problems, html_attributes
from tests.fixtures.common import require_system

ROOT = Path(__file__).resolve().parents[2]
ENV_NAME = "SCRMBENCH_ECHO_VENDOR_KEY"
PWN_SCRIPT = "<script>document.documentElement.setAttribute('data-pwned','script')</script>"
PWN_ATTR = "\"'><img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">"

pytestmark = pytest.mark.slow


def echoing_vendor(seen_auth: list[str]) -> type[BaseHTTPRequestHandler]:
    """A handler class whose every other call fails with the caller's credential and markup in the code, the
    text and the message id; ``seen_auth`` collects the Authorization headers it received."""
    counter = itertools.count()

    class EchoingVendor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # health
            self._answer(200, {"status": "ok"})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization", "")
            seen_auth.append(auth)
            n = next(counter)
            message_id = f"wamid.{n}.{auth}{PWN_ATTR}"
            if n % 2:
                self._answer(200, {"messages": [{"id": message_id}]})
                return
            body = {
                "error": {"code": f"bad_key{PWN_ATTR}", "message": f"rejected {auth} {PWN_SCRIPT}{PWN_ATTR}"},
                "messages": [{"id": message_id}],
            }
            self._answer(401, body)

        def _answer(self, status: int, data: Any) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *_: Any) -> None:  # the test reads the run's own logs, not the server's
            pass

    return EchoingVendor


def _operation(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/v1/messages",
        "json": body,
        "success": {"status": [200]},
        "message_id": "messages[0].id",
        "error_code": "error.code",
        "error_text": "error.message",
    }


def echo_profile(path: Path, port: int) -> Path:
    profile = {
        "name": "echo-vendor",
        "adapter": "generic-http",
        "base_url": f"http://127.0.0.1:{port}",
        "auth": {"scheme": "bearer", "token_env": ENV_NAME},  # no dev default: the key comes from the environment
        "phone_numbers": [{"number": "+15550000001", "id": "100000000000001"}],
        "capabilities": {"operations": ["send_text", "send_template", "health"]},
        "timeouts": {"default": 5},
        "options": {
            "operations": {
                "send_text": _operation({"to": "{to_digits}", "text": "{text}"}),
                "send_template": _operation({"to": "{to_digits}", "template": "{template}", "ref": "{correlation_id}"}),
                "health": {"method": "GET", "path": "/health", "success": {"status": [200]}},
            }
        },
        "launch": {"kind": "none"},
        # It cannot be pointed at the mock: a hosted vendor, whose sends go only to the buyer's own phones.
        "recipients": ["+15550100001", "+15550100002", "+15550100003"],
    }
    path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class HostileRun:
    secret: str
    run_dir: Path
    scorecard: Path
    output: str  # everything both commands printed, stdout and stderr
    seen_auth: list[str]


def _scrmbench(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=240, check=False)


@pytest.fixture(scope="module", params=[0, 1], ids=["local-runner", "master-and-worker"])
def hostile_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    secret = "sk-echo-" + secrets.token_hex(16)
    tmp = tmp_path_factory.mktemp("hostile")
    seen_auth: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), echoing_vendor(seen_auth))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        profile = echo_profile(tmp / "echo-vendor.yaml", server.server_address[1])
        env = {**os.environ, ENV_NAME: secret, "PYTHONPATH": str(ROOT)}
        results = tmp / "results"
        params = ["--param", "recipients=30", "--param", "rate=15", "--param", "drain_s=0"]
        run = _scrmbench(
            ["run", "--vendor", str(profile), "--scenario", "broadcast", *params, "--out", str(results),
             "--workers", str(request.param), "--no-progress"],
            env, tmp,
        )  # fmt: skip
        folders = [path for path in results.iterdir() if path.is_dir()] if results.is_dir() else []
        assert len(folders) == 1, f"exit {run.returncode}: {run.stdout[-2000:]} {run.stderr[-2000:]}"
        run_dir = folders[0]
        scorecard = run_dir / "scorecard.html"
        report = _scrmbench(["report", str(run_dir), "-o", str(scorecard)], env, tmp)
        assert scorecard.is_file(), f"exit {report.returncode}: {report.stdout[-2000:]} {report.stderr[-2000:]}"
        output = "".join([run.stdout, run.stderr, report.stdout, report.stderr])
        yield HostileRun(secret, run_dir, scorecard, output, list(seen_auth))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _readable(path: Path) -> list[str]:
    """The file's text as any reader would see it: raw, decompressed, and Parquet decoded row by row."""
    raw = path.read_bytes()
    texts = [raw.decode("utf-8", errors="replace")]
    if raw[:2] == b"\x1f\x8b":
        texts.append(gzip.decompress(raw).decode("utf-8", errors="replace"))
    if raw[:4] == b"PAR1":
        table = pq.read_table(path)
        texts.append(str(table.schema.metadata))
        texts.append(str(table.to_pylist()))
    return texts


def test_no_file_and_no_output_of_a_run_and_its_report_holds_the_secret(hostile_run: HostileRun) -> None:
    secret = hostile_run.secret
    # The vendor did receive the key, and did echo it: the guard below is not vacuous.
    assert hostile_run.seen_auth and set(hostile_run.seen_auth) == {f"Bearer {secret}"}
    rows = read_requests(hostile_run.run_dir).to_pylist()
    failed = [row for row in rows if not row["ok"]]
    assert failed and len(failed) < len(rows)
    assert all(f"rejected Bearer {REDACTED}" in (row["error_text"] or "") for row in failed)
    assert all(f"Bearer {REDACTED}" in (row["vendor_message_id"] or "") for row in rows)

    files = [path for path in hostile_run.run_dir.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"manifest.json", "summary.json", "scorecard.html", "vendor-profile.yaml"} <= names
    assert any(name.startswith("locust-") and name.endswith(".log") for name in names)
    assert any(path.suffix == ".parquet" for path in files)
    for path in files:
        for text in _readable(path):
            assert secret not in text, f"{path.relative_to(hostile_run.run_dir)} holds the secret"
    assert secret not in hostile_run.output
    # Locust's own error report went through the scrubbing too (it lists every failure text).
    logs = "".join(path.read_text(errors="replace") for path in files if path.name.startswith("locust-"))
    assert re.search(r"rejected Bearer \[redacted\]", logs), logs[-3000:]


@pytest.mark.browser
def test_the_scorecard_of_the_hostile_run_shows_vendor_markup_as_text(hostile_run: HostileRun) -> None:
    require_system("chromium", find_chromium() is not None, "the scorecard is rendered in headless Chromium")
    html = hostile_run.scorecard.read_text(encoding="utf-8")
    assert "<script>document" not in html and "<img src=x" not in html
    done = dump_dom(hostile_run.scorecard)
    attrs = html_attributes(done.stdout)
    assert attrs.get("data-ready") == "1", "the page's script never finished"
    assert "data-pwned" not in attrs, f"vendor text ran as script: data-pwned={attrs.get('data-pwned')}"
    assert attrs["data-js-errors"] == "0"
    assert console_problems(done.stderr) == []
    assert '<img src="x"' not in done.stdout and "<img src=x" not in done.stdout
    # Shown as text: the error code, the error text and the message id of the errors table.
    assert "&lt;script&gt;document.documentElement" in done.stdout
    assert "&lt;img src=x onerror=" in done.stdout
    assert f"rejected Bearer {REDACTED}" in done.stdout
