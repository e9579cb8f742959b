"""``scrmbench doctor``: is this machine ready for a trial? Each check says what it found and, if not, the fix.

Checks never send traffic beyond loopback: the loopback check talks to a socket it opened itself, the port
checks only bind. Docker and Chromium are optional (container faults; PDF and the screenshot test), so their
absence is a warning, not a failure.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from analysis.scorecard.browser import find_chromium
from ground.net import free_port
from harness.run.capacity import cache_path, load_cached

Status = Literal["ok", "warn", "fail"]
REQUIRED_PACKAGES = (
    "locust",
    "starlette",
    "uvicorn",
    "httpx",
    "pandas",
    "pyarrow",
    "plotly",
    "typer",
    "pydantic",
    "PyYAML",
    "rich",
    "scipy",
    "Jinja2",
    "orjson",
    "psutil",
    "docker",
    "Faker",
)
DEFAULT_PORTS = {8900: "mock WhatsApp API", 8910: "reference vendor"}
INSTALL_FIX = "run `make test` once (it creates .venv), or `.venv/bin/pip install -e '.[dev]'`"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    found: str
    fix: str = ""


def check_python(version: tuple[int, int] = (sys.version_info.major, sys.version_info.minor)) -> Check:
    text = f"{version[0]}.{version[1]} at {sys.executable}"
    if version >= (3, 11):
        return Check("Python", "ok", text)
    return Check("Python", "fail", text, "install Python 3.11 or newer and run `make PYTHON=python3.11 test`")


def check_packages(
    names: tuple[str, ...] = REQUIRED_PACKAGES, version_of: Callable[[str], str] = importlib.metadata.version
) -> Check:
    missing, found = [], []
    for name in names:
        try:
            found.append(f"{name} {version_of(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check("packages", "fail", "missing: " + ", ".join(missing), INSTALL_FIX)
    return Check("packages", "ok", f"{len(found)} installed ({', '.join(found[:4])}, …)")


def check_docker(ping: Callable[[], object] | None = None) -> Check:
    try:
        if ping is None:
            import docker

            client = docker.from_env(timeout=3)
            ping = client.ping
        ping()
    except Exception as exc:  # the SDK raises many kinds; all mean "no engine here"
        return Check(
            "docker engine",
            "warn",
            f"not reachable ({type(exc).__name__})",
            "only container faults need it: start Docker (`systemctl start docker`) or use process faults",
        )
    return Check("docker engine", "ok", "answering")


def check_chromium(find: Callable[[], str | None] = find_chromium) -> Check:
    path = find()
    if path:
        return Check("chromium", "ok", path)
    return Check(
        "chromium",
        "warn",
        "not found",
        "only `report --pdf` and the screenshot test need it: `apt-get install chromium`",
    )


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_ports(ports: dict[int, str] = DEFAULT_PORTS, bindable: Callable[[int], bool] = _bindable) -> Check:
    try:
        free_port()
    except OSError as exc:
        return Check("free ports", "fail", f"cannot bind 127.0.0.1 ({exc})", "check the loopback interface: `ip a`")
    busy = [f"{port} ({what})" for port, what in ports.items() if not bindable(port)]
    if busy:
        return Check(
            "free ports",
            "warn",
            "default ports in use: " + ", ".join(busy),
            "stop what holds them, or pass --port to `scrmbench mock serve` (runs pick free ports)",
        )
    return Check("free ports", "ok", "free ports available; defaults " + ", ".join(map(str, ports)) + " free")


def check_loopback(host: str = "127.0.0.1") -> Check:
    """Open a listener on loopback and talk to it: what every run does between harness, mock and vendors."""
    try:
        with socket.create_server((host, 0)) as server:
            server.settimeout(3)
            port = server.getsockname()[1]

            def answer() -> None:
                try:
                    conn, _ = server.accept()
                    with conn:
                        conn.sendall(conn.recv(16))
                except OSError:
                    pass

            thread = threading.Thread(target=answer, daemon=True)
            thread.start()
            with socket.create_connection((host, port), timeout=3) as client:
                client.sendall(b"ping")
                echoed = client.recv(16)
            thread.join(timeout=3)
    except OSError as exc:
        return Check(
            "loopback", "fail", f"{host} unreachable ({exc})", "bring up the loopback interface: `ip link set lo up`"
        )
    if echoed != b"ping":
        return Check("loopback", "fail", f"{host} answered {echoed!r}", "check local firewall rules on lo")
    return Check("loopback", "ok", f"{host} answers")


def check_results(folder: Path, min_free_bytes: int = 1 << 30) -> Check:
    folder = folder if folder.exists() else folder.parent
    probe = folder / ".scrmbench-doctor"
    try:
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return Check(
            "results folder", "fail", f"{folder} not writable ({exc.strerror})", "pass --out to a writable folder"
        )
    free = shutil.disk_usage(folder).free
    if free < min_free_bytes:
        return Check(
            "results folder",
            "warn",
            f"{free / 2**30:.1f} GiB free in {folder}",
            "free some disk: a soak's records take a few hundred MB",
        )
    return Check("results folder", "ok", f"{folder} writable, {free / 2**30:.0f} GiB free")


def check_calibration() -> Check:
    """The harness ceiling this machine measured (``scrmbench calibrate``), which runs and the demo plan by."""
    cached = load_cached()
    if cached is None:
        return Check(
            "calibration",
            "warn",
            f"not calibrated (no {cache_path()})",
            "run `scrmbench calibrate` once (the demo does it for you)",
        )
    parts = [f"{name} {probe.capacity_per_s:g}/s" for name, probe in cached.probes.items()]
    return Check("calibration", "ok", f"clean up to {', '.join(parts)} ({cached.cores} cores)")


def run_checks(results: Path) -> list[Check]:
    return [
        check_python(),
        check_packages(),
        check_docker(),
        check_chromium(),
        check_ports(),
        check_loopback(),
        check_results(results),
        check_calibration(),
    ]
