"""A bounded Locust session through one adapter, in library mode, in its own process:

    python -m harness.adapters.locust_probe PROFILE.yaml RUN_DIR --requests 200 --seconds 30 [--users 4]
        [--no-recorder] [--operations send_text,health] [--to +15550100001]

Each user sends the profile's operations round-robin through the process's shared ``PooledExecutor``, as the load
users of a real run do (it times every request and fires ``events.request``), until ``--requests`` calls were made
or ``--seconds`` passed, whichever comes first. With the recorder (default) the rows land in
``RUN_DIR/requests/*.parquet`` and ``manifest.json`` is written at start and completed at the end. The last stdout
line is ``requests=N seconds=S rps=R``.

Used by the end-to-end tests (a Locust run through each adapter) and ``bench/loadgen_overhead.py``. Locust
patches the standard library with gevent when imported, which is why this runs as its own process, never inside
pytest.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import socket
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from ground.correlation import make_token, new_run_tag
from ground.errors import ScrmbenchError
from ground.records import RunManifest
from ground.secrets import install_log_redaction
from harness.adapters.base import Call, Health, SearchConversations, SendMedia, SendTemplate, SendText, UploadMedia
from harness.adapters.pooled_executor import PooledExecutor
from harness.adapters.registry import create_adapter, load_profile
from harness.adapters.samples import SMOKE_JPEG, SMOKE_LINK
from harness.config.profiles import VendorProfile
from harness.recorder import install_recorder
from harness.results import complete_manifest, write_manifest

log = logging.getLogger("scrmbench.probe")

PROBE_OPERATIONS = ("send_text", "send_template", "send_media", "upload_media", "search_conversations", "health")


class Budget:
    """How many calls are left for all users together, and until when."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.deadline:
            return False
        self.left -= 1
        return True


def make_call(operation: str, to: str, token: str) -> Call:
    calls: dict[str, Call] = {
        "send_text": SendText(to, "scrmbench probe", token),
        "send_template": SendTemplate(to, "hello_world", params=("probe",), correlation_id=token),
        "send_media": SendMedia(to, link=SMOKE_LINK, caption="probe", content=SMOKE_JPEG, correlation_id=token),
        "upload_media": UploadMedia(SMOKE_JPEG, "image/jpeg", "probe.jpg", correlation_id=token),
        "search_conversations": SearchConversations("", 5),
        "health": Health(),
    }
    return calls[operation]


def user_class(
    profile: VendorProfile, operations: list[str], budget: Budget, to: str, run_tag: str, *, users: int = 1
) -> type:
    adapter = create_adapter(profile)
    sequence = itertools.count()
    executor = PooledExecutor(
        events.request, base_url=profile.base_url, allowed_targets=profile.allowed_targets, concurrency=users
    )

    class ProbeUser(User):
        host = profile.base_url
        wait_time = constant(0)

        def on_start(self) -> None:
            self.executor = executor
            self.cycle = itertools.cycle(operations)

        @task
        def call(self) -> None:
            if not budget.take():
                raise StopUser()
            number = next(sequence)
            operation = next(self.cycle)
            request = adapter.build(make_call(operation, to, make_token(run_tag, 0, number)))
            outcome = self.executor.execute(adapter, request, {"scheduled_at": None, "vendor": profile.name})
            if not outcome.ok:
                # Goes through the redacting filter: a vendor may echo a key in its error text.
                log.warning("%s failed: %r (request %r)", operation, outcome, request)

    return ProbeUser


def run(args: argparse.Namespace) -> dict[str, Any]:
    profile = load_profile(args.profile)
    to = profile.test_recipient(args.to, source=args.profile)  # a hosted vendor: its recipients only
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    wanted = args.operations.split(",") if args.operations else list(PROBE_OPERATIONS)
    operations = [op for op in wanted if op in profile.capabilities.operations]
    budget = Budget(args.requests, args.seconds)
    run_tag = new_run_tag()
    user = user_class(profile, operations, budget, to, run_tag, users=args.users)
    environment = Environment(user_classes=[user], events=events)
    runner = environment.create_local_runner()
    recorder = None
    started = time.time()
    if not args.no_recorder:
        manifest = RunManifest(
            run_id=run_dir.name, run_tag=run_tag, scenario="probe", started_at=started, load_model="closed",
            vendor=profile.public_dict(), workers=[socket.gethostname()],
        )  # fmt: skip
        write_manifest(run_dir, manifest)
        recorder = install_recorder(environment, run_dir, vendor=profile.name, scenario="probe", worker="probe")
    counted = {"n": 0}
    environment.events.request.add_listener(lambda **_: counted.__setitem__("n", counted["n"] + 1))
    begin = time.perf_counter()
    runner.start(args.users, spawn_rate=args.users)
    stopper = gevent.spawn_later(args.seconds + 5, runner.quit)  # a hard bound even if a user hangs
    while budget.left > 0 and time.monotonic() < budget.deadline:
        gevent.sleep(0.02)
    settle = time.monotonic() + 5  # let calls already sent finish (they are bounded by the network timeout)
    while runner.user_count > 0 and time.monotonic() < settle:
        gevent.sleep(0.02)
    elapsed = time.perf_counter() - begin
    runner.quit()
    stopper.kill()
    if recorder is not None:
        recorder.close()
        complete_manifest(run_dir, ended_at=time.time(), complete=True)
    return {"requests": counted["n"], "seconds": elapsed, "rps": counted["n"] / elapsed if elapsed else 0.0}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    parser = argparse.ArgumentParser(prog="python -m harness.adapters.locust_probe")
    parser.add_argument("profile")
    parser.add_argument("run_dir")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--operations", default="")
    parser.add_argument("--to", default=None, help="default: the profile's first recipient, else a fictional number")
    parser.add_argument("--no-recorder", action="store_true")
    try:
        result = run(parser.parse_args())
    except ScrmbenchError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(exc.exit_code)
    print(f"requests={result['requests']} seconds={result['seconds']:.3f} rps={result['rps']:.1f}", flush=True)


if __name__ == "__main__":
    main()
