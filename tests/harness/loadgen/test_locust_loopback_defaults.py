"""Through ``locustfile.py`` Locust's web UI and master listen on loopback unless the user asks otherwise (Locust's
own defaults are every interface: ``--web-host ''`` and ``--master-bind-host *``).

Locust is imported in child processes only: importing it here would monkey-patch this pytest process (gevent)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ground.net import free_port
from harness.loadgen.options import LOOPBACK_DEFAULTS

ROOT = Path(__file__).resolve().parents[3]
LOCUST_ENV = ("LOCUST_WEB_HOST", "LOCUST_MASTER_BIND_HOST")


# Locust's parser as `locust -f locustfile.py` builds it (the locustfile's import registers scrmbench's options).
PARSE = """
import json, sys, locust
from locust.argument_parser import get_parser
import locustfile
options = get_parser(default_config_files=[]).parse_args(sys.argv[1:])
print(json.dumps({"web_host": options.web_host, "master_bind_host": options.master_bind_host}))
"""


def parsed(*args: str, **environ: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in LOCUST_ENV}
    done = subprocess.run(
        [sys.executable, "-c", PARSE, *args],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, str] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_the_locustfile_defaults_both_listening_addresses_to_loopback() -> None:
    assert parsed() == LOOPBACK_DEFAULTS == {"web_host": "127.0.0.1", "master_bind_host": "127.0.0.1"}


def test_an_address_the_user_gives_still_wins() -> None:
    assert parsed("--web-host", "0.0.0.0", "--master-bind-host", "*") == {
        "web_host": "0.0.0.0",
        "master_bind_host": "*",
    }
    assert parsed(LOCUST_WEB_HOST="0.0.0.0")["web_host"] == "0.0.0.0"


@pytest.fixture
def master(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """A plain ``locust -f locustfile.py --master`` with its web UI, no listening address given."""
    web_port, master_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py"), "--master",
        "--web-port", str(web_port), "--master-bind-port", str(master_port),
        "--scenario", "broadcast", "--vendor", str(ROOT / "vendors" / "reference-steady.yaml"),
    ]  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if k not in LOCUST_ENV}
    process = subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process, web_port, master_port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.mark.slow
def test_a_plain_locust_master_listens_on_loopback_only(master: tuple[subprocess.Popen[bytes], int, int]) -> None:
    process, web_port, master_port = master
    listening: dict[int, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not {web_port, master_port} <= set(listening):
        assert process.poll() is None, "locust exited before listening"
        connections = psutil.Process(process.pid).net_connections(kind="inet")
        listening = {c.laddr.port: c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
        time.sleep(0.2)  # polling a real process until it listens
    assert {web_port, master_port} <= set(listening), listening
    assert {listening[web_port], listening[master_port]} == {"127.0.0.1"}, listening
