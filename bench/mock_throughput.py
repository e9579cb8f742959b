"""Throughput of the mock's send path against a bare endpoint on the same server stack (issue 2, "Speed").

Run: ``.venv/bin/python bench/mock_throughput.py`` (needs ``wrk``). One server process runs the full mock as
``scrmbench mock serve`` does (uvicorn, uvloop, httptools, default plug-ins: the webhook engine is on and listens
to every accepted send; no subscription, so no webhook traffic) and also serves ``POST /bench/bare``: a raw ASGI
endpoint like the send endpoint, first in the route list next to the send routes, that reads the body and answers
a constant JSON of a send answer's size. The same wrk (1 thread, 32 connections, the same POST body and headers
for both) then drives, in one run:

1. ``POST /bench/bare`` flat out -> bare requests/s;
2. ``POST /v22.0/{id}/messages`` (text, full validation, limiters on but set high, ledger on) flat out;
3. both again paced by wrk's ``delay()`` at 50% of the send path's maximum rate -> p99 of each.

The last line prints sends/s ÷ bare requests/s (goal ≥ 0.75, issue 21); the p99 ratio at 50% load is printed
before it (goal ≤ 2). Absolute numbers vary with the machine; the ratios are the result. Both routes go through
the same dispatch: the app's router caches (method, path) -> route for every route (``CachedRouter`` in
``mocks/whatsapp/app.py``), the bare endpoint's as well as the send routes'.

``--against GIT_REF`` also serves the mock of another commit (its tree unpacked by ``git archive``) and runs
steps 1 and 2 against both servers in interleaved rounds, then prints both ratios and here ÷ there: the check that
a change did not make the send path slower, measured side by side in one run instead of against a figure from
another day (issue 18's "must not drop").

On Linux it also prints the server's CPU per request in the flat-out rounds (user and system µs, from
``/proc/<pid>/stat``, the median round). ``--spin-us N`` adds ``POST /bench/spin``: the bare endpoint with a busy
loop of N µs (no allocation, the same bytes written), driven in the same rounds: the control for how the
server's kernel time per request moves with its user time.

It then starts ``scrmbench mock serve --workers 2`` (two shards, one phone number each) and the same server with
one worker, drives both numbers at once with two wrk processes, and prints sends/s for 1 and 2 workers (on this
2-core machine wrk itself needs a core, so the gain is bounded; with more cores it grows with the workers).

Where time goes, December 2026 (issue 21). Wall-clock segments timed inside the bench server (perf_counter
around the ASGI app and the endpoint) while wrk drove each route, 2-core machine shared with other work, before
the cuts: the whole app ~93 µs a send against ~48 µs a bare request; inside, the send endpoint ~75 µs against
~35 µs. Of the send endpoint's extra ~40 µs: admission ~12.5 (customer lookup, two limiters, wamid, token
search, the LedgerEntry), the two socket writes ~10 more than the bare endpoint's same two writes (a slower
server finds wrk asleep more often), token/version/number checks ~5.6, JSON parse + validation ~4.8, the
``on_accepted`` listeners + ledger append ~3, the answer ~1.6; routing added ~5 (Route.matches tried the bare
route, then the send route's regex and three int convertors). In process (no sockets, GC off) the full app took
~35 µs a send against ~10 µs bare. Cut: the route cache (both routes), the token check remembered per
Authorization header, a one-pass validator for plain text sends (checked against the full validator on
generated bodies, tests/mocks/whatsapp/test_validation_properties.py), wamids through binascii, version header
bytes made once, admission skipping calls that cannot refuse. In process now ~28-31 µs a send against ~8-9 µs
bare; ``--against 858b3f6`` in three runs: 0.518 -> 0.605, 0.556 -> 0.640, 0.576 -> 0.582 of bare (the last on
a busier machine), 1.16x, 1.14x, 1.07x the sends/s. GC (``ground/heap.py``'s keeper on) and
the webhook engine's listener with no subscription were each within noise when switched off in an A/B server.

Second pass, December 2026 (issue 21, branch mk22), same machine. Per request in the server (``/proc``, median
round): bare user 34-38 µs + system 12-16 µs, send user 62-66 µs + system 22-24 µs; the server's core is at
99-100%, so sends/s ÷ bare is the inverse of those sums. What each part of that difference is:

- The system time (the "two socket writes ~10 µs more" of the first pass) is not in what the send route writes.
  Both routes make the same two ``transport.write`` calls (status line + headers, then the body), keep-alive, the
  same uvicorn ``date``/``server`` headers, the same middleware; the send answer has one header more
  (``facebook-api-version``) and a body 26 bytes longer. The bare endpoint with a 30 µs busy loop
  (``--spin-us 30``) pays user 69.7 / system 20.5 µs per request against the bare 34.8 / 11.5 and the send
  64.5 / 22.8 in the same run: the kernel time per request grows with the server's time per request (fewer
  requests handled per loop turn, wrk found asleep: ~0.94 sleeps of wrk per bare request, ~0.99 per send), so
  each µs of user time cut from the send path brings ~0.3 µs of system time with it.
- The user time: in process (the ASGI app driven directly, no sockets) a send costs ~16-20 µs more than a bare
  request; in the server ~28 µs more (caches and GC share the core with uvicorn and the kernel). py-spy on the
  app in process: admission ~22% of a send (limiters, customer lookup, token search, the LedgerEntry, the wamid:
  each 0.25-0.8 µs), the answer's two ``send`` calls through Starlette's two ``send`` wrappers ~15% (the bare
  endpoint pays them too), the token check, version and number checks, JSON parse + validation ~12%, listeners
  + ledger append ~5%.
- Measured and rejected (four servers side by side, wrk, two rounds each; each variant's sends/s, user and
  system µs per send within the base server's own spread of 11,300-11,800/s, 62-66 and 22-23 µs): the ledger
  append removed altogether (the upper bound of any columnar ledger: what remains is building the entry, which
  the webhook engine's ``on_accepted`` listener reads), the collector off (``gc.disable()``, no heap keeper), the
  webhook plug-in off (no ``on_accepted`` listener). In process a larger gen-0 threshold (5,000) was within
  noise too. The wamid costs 0.25 µs (timeit; a counter with a precomputed base64 prefix 0.24 µs): not worth a
  different format.
- Cut: the accepted answer spliced into one bytes frame (printable-ASCII strings without quote or backslash;
  anything else through orjson; byte-for-byte the same, hypothesis test), one limiter call for throughput and
  pair with the token bucket's refill written out, ``LedgerEntry.extra`` None instead of an empty dict, and one
  coroutine per send (the body read and the answer written inline). ``--against bd665e1`` in three runs:
  0.555, 0.542, 0.562 of bare here against 0.548, 0.531, 0.542 there, 1.00, 1.04, 1.02x the sends/s (bare
  20,000-22,000/s on a quieter machine than the first pass's runs): a gain within the run-to-run spread.
- Not cut, and why: what is left is ~25 small steps of 0.2-1 µs each (Meta's semantics: token, version, number,
  shard owner, validation, customer, two limiters, window, pricing, withholding, token search, the entry, the
  listener, the ledger). Reaching 0.75 needs the server's time per send to fall from ~87 µs to ~62 µs: about
  20 µs of user time (the system time follows), all of the mock's own work in process. Skipping the middleware
  chain on the send route only (the issue's idea "middleware skipped when no fault is armed") would gain
  absolute sends/s, but the bare endpoint would then no longer be measured on the same stack; given the bare
  endpoint the same fast lane, the ratio would fall, not rise (the same µs off both). By the in-process
  profile the chain costs ~7 µs a request, so even the send route alone skipping it would reach ~0.6.

Third pass, December 2026 (issue 21, branch mk23), same machine. Measured first:

- In process (a driver kept out of the repository: the bench's config, the ASGI app called directly, no sockets;
  min of 5 rounds of 20,000, thread CPU time), with the served mock's ``HeapKeeper`` on as ``serve_app`` runs it:
  ``58c4fd6`` bare 7.2-7.4 µs, send 21.9-22.1 µs. py-spy (``record -r 2000 -f raw``, shares of a send, inclusive):
  admission 27% (``check_send`` 4.6, the customer lookup 4.3, the wamid 3.8, building the ``LedgerEntry`` 3.3,
  the token search 2.8, ``note_exchange`` 1.3), the listener + ledger append 10%, validation 5%, the version 4.3%,
  the answer frame 4%, JSON parse 3.4%, the token check 2.2%, reading ``app.state.mock`` 2.1% (Starlette's
  ``State.__getattr__``). timeit: the entry built with 21 keywords 1.07 µs, by position 0.35 µs.
- The ~8% of a send that py-spy put on the ``def`` line of ``SubscriptionRegistry.targets`` is the collector:
  ``py-spy --native`` shows ``gc_collect_main`` there (a gen-0 collection triggered by an allocation), not a GIL
  hand-off to the spill thread. The in-process driver without the keeper paid for collections over the growing
  ledger that the served mock does not; with it, removing the webhook listener moved nothing beyond the noise.
- The spill thread does not run during this bench's default form (~180,000 sends per server, under
  ``ledger.memory_rows`` 200,000; ``--rounds 5`` crosses it). When it runs it holds the GIL the send path needs
  while it turns 200,000 rows into Arrow: 2.3-3.5 µs of CPU a row (the tuple per row, the transpose, and the
  collector walking those tuples), plus ~0.9 µs a row writing Parquet (mostly outside the GIL): in a soak every
  row pays it once.
- In the server (``py-spy record --pid`` during wrk, both routes): the mock's own work in the send route costs
  about twice what it costs in process (caches are cold between requests: the kernel and wrk run in between),
  and uvicorn's ``RequestResponseCycle.send`` (the two socket writes) ~6 µs more per send than per bare request
  (one header more, and the kernel time that follows the server's time per request, see the second pass).

Cut (the same behaviour; each fast path checked against the full one): ``admit`` builds the ``LedgerEntry`` by
position (field order pinned by a test, every column checked by name), the customer lookup of a known phone
number without ``get_or_create``'s keyword call, and ``is_bsuid`` of the address once instead of twice; the
version answer memoised per version and day (``VersionPolicy.serve``; a hypothesis test against a policy without
the memo over days 2022-2028, and a FakeClock test across v21.0's expiry and a reset); the endpoint keeps its
app's ``MockState`` instead of ``State.__getattr__`` per send; ``ReplyTracker.link`` returns at once when no
inbound message is tracked; the answer frame tests the three strings' concatenation once (each test is per
character); ``Send`` built by position on the plain-text path; the spill builds its table a column at a time
(0.8 µs a row, 2.0 on a cold first call; hypothesis test: the same table as by rows). In process now: bare
6.9-7.0 µs, send 17.2-17.5 µs: the send's extra over bare 14.7 -> 10.4 µs.

``--against 58c4fd6`` in four runs, side by side:
sends/s ÷ bare 0.573, 0.619, 0.604, 0.586 here against 0.540, 0.625, 0.556, 0.558 there; sends/s here ÷ there
1.08, 0.98, 1.05, 1.10 (the third run with ``--rounds 5``). Server CPU per request in those runs: bare 27-35 µs
user + 8-15 system, send 50-64 + 11-25: how busy the machine was moves both by a quarter. Goal >= 0.75 not met.
What is left: the server spends ~75-80 µs per send against ~46-48 per bare request; 0.75 needs ~62, i.e. ~15 µs
less per send, ~6 µs of the ~10 µs the send route still adds in process: the whole send (token, version,
number, shard owner, parse, validation, customer, two limiters, window, pricing, withholding, token search, wamid,
entry, listener, ledger, answer) in ~4 µs of Python, ~0.2 µs a step. Not reachable in CPython with these
semantics; compiling the modules (Cython, pure-Python mode: 25.4 -> 21 µs in process before these cuts) would
need a compiler at install and would not close it either.

Older profile (py-spy 0.4, ``py-spy record -r 200 -f raw --pid <server>`` during step 2; shares of all samples of
the server process, before the cuts above):
- ~26%: uvicorn writing the response (two ``transport.write`` calls per answer, i.e. socket syscalls); the bare
  endpoint pays the same.
- ~10%: httptools parsing requests and uvicorn creating the ASGI task per request; same for the bare endpoint.
- ~8%: the middleware chain (uvicorn proxy headers, Starlette error/exception middleware, the mock's shedding
  and fault middleware: one comparison each when idle) and routing. The send routes are first in the route list;
  before that change routing alone cost 16 regex matches per send.
- ~12%: the mock's own work: token check, orjson parse, hand-written validation (~1.5%), customer lookup,
  three limiters (~2%), correlation-token search (~1.5%), wamid, ledger append, orjson answer.
- the rest: the event loop itself (epoll, callbacks) and idle time.
Two earlier designs measured worse: Starlette ``Request``/``Response`` in the send handler (0.40 of bare) and
the route list in definition order; pydantic validation was never put on this path (see load-testing-anchors §7).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._wrk import WrkResult, checkout, run_wrk, start_server
from ground.services import ServiceProcess

PNID = "100000000000001"
TEXT = json.dumps(
    {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Your order sb-abc123-2bk4 has shipped and arrives tomorrow."},
    }
)
HIGH_LIMITS = {
    "limits": {
        "throughput_per_second": 1e9,
        "pair_rate_per_6s": 1e9,
        "pair_burst": 10**9,
        "tier": "unlimited",
        "enforce_customer_window": False,
    }
}


BARE_BODY = (
    b'{"messaging_product":"whatsapp","contacts":[{"input":"4915112345678","wa_id":"4915112345678"}],'
    b'"messages":[{"id":"wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjAwMDAwMDAwMDAwMDAwMDAwMQA="}]}'
)  # the size and shape of a send's answer


class BareEndpoint:
    """Raw ASGI like the send endpoint: reads the request body, answers a constant JSON of a send's size.
    ``spin_s`` > 0 (``--spin-us``): a busy loop of that long before answering, the control for "does the server's
    kernel time per request follow its user time?" (no allocation, no extra byte written)."""

    def __init__(self, spin_s: float = 0.0) -> None:
        self.spin_s = spin_s

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        more = True
        while more:
            message = await receive()  # type: ignore[operator]
            more = message.get("more_body", False)
        if self.spin_s:
            until = time.perf_counter() + self.spin_s
            while time.perf_counter() < until:
                pass
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BARE_BODY)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": BARE_BODY})  # type: ignore[operator]


def serve(port: int, spin_us: float = 0.0) -> None:
    """The full mock as ``scrmbench mock serve`` runs it (default plug-ins, so the webhook engine is on), plus
    ``POST /bench/bare`` inserted first in the route list, next to the send routes, on the same middleware (and
    ``POST /bench/spin``, the bare endpoint with a busy loop, when ``spin_us`` > 0)."""
    from starlette.routing import Route

    from mocks.whatsapp.app import create_app
    from mocks.whatsapp.config import MockConfig
    from mocks.whatsapp.sharding import serve_app

    config = MockConfig.model_validate({**HIGH_LIMITS, "port": port})
    app = create_app(config)
    app.router.routes.insert(0, Route("/bench/bare", BareEndpoint(), methods=["POST"], name="bench_bare"))
    if spin_us > 0:
        app.router.routes.insert(0, Route("/bench/spin", BareEndpoint(spin_us / 1e6), methods=["POST"]))
    serve_app(app, config)


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU seconds a process used so far, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def scaling(seconds: float) -> tuple[float, float]:
    """Sends/s over two phone numbers with 1 worker and with 2 sharded workers (two wrk processes at once)."""
    import subprocess
    import tempfile
    from pathlib import Path

    import yaml

    from bench._wrk import WRK, adjacent_free_ports, lua_script, parse
    from ground.services import ServiceProcess

    numbers = [PNID, "100000000000002"]
    headers = {"Authorization": "Bearer mock-access-token", "Content-Type": "application/json"}
    script = lua_script("POST", TEXT, headers, None)
    totals = []
    try:
        for workers in (1, 2):
            port = adjacent_free_ports(workers)
            config = {**HIGH_LIMITS, "port": port, "phone_numbers": [{"id": number} for number in numbers]}
            path = Path(tempfile.mkdtemp()) / "mock.yaml"
            path.write_text(yaml.safe_dump(config))
            args = ["mock", "serve", "--config", str(path), "--workers", str(workers)]
            with ServiceProcess.python_module("mock", args, health_url=f"http://127.0.0.1:{port}/_mock/health"):
                ServiceProcess(
                    "shard", [], health_url=f"http://127.0.0.1:{port + workers - 1}/_mock/health"
                ).wait_healthy()
                urls = [
                    f"http://127.0.0.1:{port + index % workers}/v22.0/{number}/messages"
                    for index, number in enumerate(numbers)
                ]
                runs = [
                    subprocess.Popen(
                        [str(WRK), "-t1", "-c16", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for url in urls
                ]
                totals.append(sum(parse(run.communicate(timeout=seconds + 30)[0]).requests_per_s for run in runs))
    finally:
        script.unlink(missing_ok=True)
    return totals[0], totals[1]


def _bench_urls(port: int) -> tuple[str, str]:
    base = f"http://127.0.0.1:{port}"
    return f"{base}/bench/bare", f"{base}/v22.0/{PNID}/messages"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--spin-us",
        type=float,
        default=0.0,
        help="also drive POST /bench/spin, the bare endpoint with a busy loop of this many µs, and print the "
        "server's user and system CPU per request for it: the control for the send path's extra kernel time",
    )
    parser.add_argument(
        "--against",
        metavar="GIT_REF",
        help="also serve the mock of this commit (git archive into a temporary folder) and measure both in "
        "interleaved rounds: did a change make the send path slower? The last line stays this tree's ratio",
    )
    return parser.parse_args()


class _Driver:
    """wrk runs against the bench servers; the server CPU per request of this tree's server, per route."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.headers = {"Authorization": "Bearer mock-access-token", "Content-Type": "application/json"}
        self.cpu: dict[str, list[tuple[float, float]]] = {"bare": [], "send": [], "spin": []}  # (user, sys) µs
        self.spin_results: list[WrkResult] = []

    def run(self, url: str, delay_ms: float | None = None, *, send: bool = False, seconds: float = 0.0) -> WrkResult:
        result = run_wrk(
            url,
            method="POST",
            body=TEXT,
            headers=self.headers,
            seconds=seconds or self.args.seconds,
            connections=self.args.connections,
            delay_ms=delay_ms,
        )
        if send and (result.non_2xx or result.errors):
            sys.exit(f"the send path answered {result.non_2xx} non-2xx and {result.errors} socket errors")
        return result

    def measured(self, route: str, pid: int, url: str, *, send: bool = False) -> WrkResult:
        before = cpu_seconds(pid)
        result = self.run(url, send=send)
        after = cpu_seconds(pid)
        if before is not None and after is not None and result.requests:
            per = 1e6 / result.requests
            self.cpu[route].append(((after[0] - before[0]) * per, (after[1] - before[1]) * per))
        return result

    def flat_out(
        self, servers: list[tuple[str, ServiceProcess, int]]
    ) -> dict[str, tuple[list[WrkResult], list[WrkResult]]]:
        """Interleaved rounds (and servers) of bare then send, flat out: server -> (bare, send) of each round; the
        first server (this tree's) is also timed on CPU, and its spin endpoint driven when there is one."""
        maxima: dict[str, tuple[list[WrkResult], list[WrkResult]]] = {}
        for _, _, port in servers:  # warm-up
            for url in _bench_urls(port):
                self.run(url, seconds=1)
        for _ in range(self.args.rounds):
            for index, (name, process, port) in enumerate(servers):
                bare_url, send_url = _bench_urls(port)
                bare_rounds, send_rounds = maxima.setdefault(name, ([], []))
                if index:
                    bare_rounds.append(self.run(bare_url))
                    send_rounds.append(self.run(send_url, send=True))
                    continue
                bare_rounds.append(self.measured("bare", process.pid, bare_url))
                send_rounds.append(self.measured("send", process.pid, send_url, send=True))
                if self.args.spin_us:
                    spin_url = f"http://127.0.0.1:{port}/bench/spin"
                    self.spin_results.append(self.measured("spin", process.pid, spin_url))
        return maxima


def main() -> None:
    args = _arguments()
    if args.serve:
        serve(args.serve, args.spin_us)
        return
    if args.seconds <= 0 or args.connections < 1 or args.rounds < 1 or args.spin_us < 0:
        sys.exit("--seconds must be > 0, --connections and --rounds at least 1, --spin-us at least 0")
    other = checkout(args.against) if args.against else None  # a bad ref ends here, before any server starts
    driver = _Driver(args)
    servers: list[tuple[str, ServiceProcess, int]] = []
    try:
        spin_args = ["--spin-us", str(args.spin_us)] if args.spin_us else []
        servers.append(("here", *start_server(spin_args, "mock_throughput.py")))
        if args.against and other is not None:
            servers.append((args.against, *start_server([], "mock_throughput.py", root=other)))
        maxima = driver.flat_out(servers)  # the best of each series is the least disturbed by other load
        bare_max, send_max = maxima["here"]
        best_bare = max(bare_max, key=lambda r: r.requests_per_s)
        best_send = max(send_max, key=lambda r: r.requests_per_s)
        half_rate = best_send.requests_per_s / 2
        delay_ms = args.connections * 1000.0 / half_rate
        bare_url, send_url = _bench_urls(servers[0][2])
        bare_half, send_half = [], []
        for _ in range(args.rounds):
            bare_half.append(driver.run(bare_url, delay_ms))
            send_half.append(driver.run(send_url, delay_ms, send=True))
    finally:
        for _, process, _ in servers:
            process.stop()
    one_worker, two_workers = scaling(args.seconds)
    bare_p99 = min(r.p99_ms for r in bare_half)
    send_p99 = min(r.p99_ms for r in send_half)
    ratio = best_send.requests_per_s / best_bare.requests_per_s
    print(
        "rounds (req/s): bare "
        + " ".join(f"{r.requests_per_s:.0f}" for r in bare_max)
        + " | send "
        + " ".join(f"{r.requests_per_s:.0f}" for r in send_max)
    )
    print(f"bare POST: {best_bare.requests_per_s:9.0f} req/s  p99 {best_bare.p99_ms:.2f} ms")
    print(f"send POST: {best_send.requests_per_s:9.0f} req/s  p99 {best_send.p99_ms:.2f} ms")
    print(f"paced at {half_rate:.0f}/s offered: bare p99 {bare_p99:.2f} ms, send p99 {send_p99:.2f} ms")
    print(
        f"sharded: {one_worker:.0f} sends/s with 1 worker, {two_workers:.0f} with 2 ({two_workers / one_worker:.2f}x)"
    )
    _print_cpu(driver.cpu, driver.spin_results, args.spin_us)
    if args.against:
        _print_against(args.against, maxima[args.against], best_send.requests_per_s, ratio)
    print(f"p99 ratio at 50% of max send rate (goal <= 2): {send_p99 / bare_p99:.2f}")
    print(f"sends/s / bare requests/s (goal >= 0.75): {ratio:.3f}")


def _print_cpu(cpu: dict[str, list[tuple[float, float]]], spin_results: list[WrkResult], spin_us: float) -> None:
    for route, figures in cpu.items():
        if figures:  # the median round's, by total CPU per request
            user, system = sorted(figures, key=sum)[len(figures) // 2]
            extra = ""
            if route == "spin" and spin_results:
                extra = f" ({spin_us:.0f} µs busy loop, {max(r.requests_per_s for r in spin_results):.0f} req/s)"
            print(f"server CPU per request, {route}{extra}: user {user:.1f} µs, system {system:.1f} µs")


def _print_against(
    ref_name: str, rounds: tuple[list[WrkResult], list[WrkResult]], best_send: float, ratio: float
) -> None:
    bare_ref, send_ref = rounds
    best_ref = max(r.requests_per_s for r in send_ref)
    ref = best_ref / max(r.requests_per_s for r in bare_ref)
    print(
        f"against {ref_name}: send "
        + " ".join(f"{r.requests_per_s:.0f}" for r in send_ref)
        + f"; sends/s / bare there {ref:.3f}, here {ratio:.3f}; "
        f"sends/s here / there {best_send / best_ref:.2f} (same machine, interleaved rounds)"
    )


if __name__ == "__main__":
    main()
