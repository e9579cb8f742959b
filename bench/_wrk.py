"""Helpers shared by the benchmarks (wrk runner and report parser, bench server start); not a benchmark itself:
run as a script it only says so."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ground.net import free_port
from ground.services import ServiceProcess

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk")

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(report: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", report).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", report).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    return WrkResult(
        rps, p50, p99, total, int(non_2xx.group(1)) if non_2xx else 0, sum(map(int, errors.groups())) if errors else 0
    )


def lua_script(method: str, body: str | None, headers: dict[str, str], delay_ms: float | None) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = [[{body}]]")
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if delay_ms is not None:
        # wrk's delay() paces each connection: an (approximately) fixed offered rate, not a closed loop.
        lines.append(f"function delay() return {delay_ms:.3f} end")
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    handle.write("\n".join(lines) + "\n")
    handle.close()
    return Path(handle.name)


def run_wrk(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    seconds: float = 5.0,
    connections: int = 32,
    threads: int = 1,
    delay_ms: float | None = None,
) -> WrkResult:
    if WRK is None:
        sys.exit("wrk is not installed (apt-get install wrk); this benchmark needs it")
    script = lua_script(method, body, headers or {}, delay_ms)
    try:
        args = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30, check=True)
    finally:
        script.unlink(missing_ok=True)
    return parse(done.stdout)


def checkout(ref: str) -> Path:
    """The source tree of git ref ``ref`` in a new temporary folder (``git archive``, so no worktree is left behind),
    for a side-by-side comparison with the working tree in one run. Exits with status 2 naming the ref when git
    does not know it."""
    found = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=False)
    if found.returncode != 0:
        message = found.stderr.decode(errors="replace").strip()
        sys.stderr.write(f"--against {ref!r}: not a commit git knows here ({message}); give a branch, tag or hash\n")
        sys.exit(2)
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{ref.replace('/', '_')[:20]}-"))
    subprocess.run(["tar", "-x", "-C", str(folder)], input=found.stdout, check=True)
    return folder


def adjacent_free_ports(count: int) -> int:
    """A port p such that p .. p + count - 1 were all free a moment ago (a sharded mock needs neighbours)."""
    import socket

    for _ in range(100):
        port = free_port()
        with contextlib.ExitStack() as stack:
            try:
                for offset in range(1, count):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port + offset))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no {count} neighbouring free ports on 127.0.0.1")


def start_server(module_args: list[str], log_name: str, *, root: Path = ROOT) -> tuple[ServiceProcess, int]:
    """Start ``python bench/<script> --serve PORT ...`` and wait for its health URL. ``root``: the source tree the
    server runs from (another commit's tree, see ``checkout``); the scripts put their own tree first on the path."""
    port = free_port()
    script = root / "bench" / log_name
    process = ServiceProcess(
        log_name,
        [sys.executable, str(script), "--serve", str(port), *module_args],
        health_url=f"http://127.0.0.1:{port}/_mock/health",
        log_path=Path(tempfile.gettempdir()) / f"{log_name}-{port}.log",
    )
    process.start()
    return process, port


if __name__ == "__main__":
    print("bench/_wrk.py holds helpers for the other benchmarks; nothing to measure here")
