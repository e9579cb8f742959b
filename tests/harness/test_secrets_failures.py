"""Failure texts and record fields are scrubbed before Locust sees them, and every Locust process (the master,
which never builds an adapter, included) knows the vendor's secrets and filters its own log handlers.

Locust patches the standard library with gevent on import, so the Locust-process check runs in a child process.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ground.records import REQUEST_COLUMNS
from ground.secrets import REDACTED, read_secret
from harness.adapters.base import Outcome
from harness.adapters.executors import ReportingExecutor, failure_message, outcome_context
from harness.recorder import MAX_ERROR_TEXT, RequestRecorder

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ROOT / "vendors"


def echoed_outcome(secret: str) -> Outcome:
    return Outcome(
        operation="send_text",
        result="failed",
        http_status=401,
        error_kind="http",
        error_code=f"bad_key:{secret}",
        error_text=f"rejected Bearer {secret}",
        vendor_message_id=f"wamid.{secret}",
        correlation_id="sb-aaaaaa-1",
    )


class RecordingHook:
    """Locust's ``events.request`` as the executors fire it: every call's keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def fire(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def reported(outcome: Outcome) -> dict[str, Any]:
    """What the load users' executor hands ``events.request`` (Locust's statistics, the recorder) for ``outcome``."""
    hook = RecordingHook()
    executor = ReportingExecutor("http://127.0.0.1:8900", hook)
    executor.report(outcome, method="POST", url="http://127.0.0.1:8900/messages", started_at=0.0, context={})
    return hook.calls[0]


def test_failure_texts_and_record_fields_never_carry_a_registered_secret() -> None:
    secret = "sk-fail-" + secrets.token_hex(12)
    read_secret("SCRMBENCH_TEST_FAIL_KEY", environ={"SCRMBENCH_TEST_FAIL_KEY": secret})
    outcome = echoed_outcome(secret)

    message = failure_message(outcome)
    assert secret not in message and f"rejected Bearer {REDACTED}" in message
    context = outcome_context(outcome)
    assert secret not in str(context)
    assert context["vendor_message_id"] == f"wamid.{REDACTED}" and context["correlation_id"] == "sb-aaaaaa-1"

    event = reported(outcome)
    failure = str(event["exception"])  # what Locust keeps and prints in its error report
    assert secret not in failure and f"rejected Bearer {REDACTED}" in failure
    assert secret not in str(event["context"])
    assert event["context"]["error_code"] == f"bad_key:{REDACTED}"


def test_a_long_vendor_text_is_scrubbed_before_it_is_cut() -> None:
    # Cutting first could leave half a key behind, which no redactor would recognise any more.
    secret = "sk-long-" + secrets.token_hex(12)
    read_secret("SCRMBENCH_TEST_LONG_KEY", environ={"SCRMBENCH_TEST_LONG_KEY": secret})
    padded = replace(echoed_outcome(secret), error_text="x" * (MAX_ERROR_TEXT - 10) + secret)
    event = reported(padded)
    recorder = RequestRecorder(RecordingSink(), worker="test")
    row = recorder.row(event["name"], 1.0, 0, None, event["context"], event["exception"], 0.0)
    error_text = row[REQUEST_COLUMNS.index("error_text")]
    assert len(error_text) == MAX_ERROR_TEXT and secret[:12] not in error_text


class RecordingSink:
    worker = "test"

    def append_values(self, values: tuple[Any, ...]) -> None:
        raise AssertionError("row() must not write")


CHILD = textwrap.dedent(
    """
    import argparse, logging, sys
    from locust.log import setup_logging
    from harness.loadgen.hooks import protect_secrets

    setup_logging("INFO")  # as Locust does before its init event
    protect_secrets(argparse.Namespace(vendor=sys.argv[1], vendor_json=sys.argv[2]))
    secret = sys.argv[3]
    logging.getLogger("locust.stats_logger").info("error report: rejected Bearer %s", secret)
    logging.getLogger("locust.runners").warning("worker said Bearer " + secret)
    logging.getLogger("scrmbench.anything").error("root handler: %s", secret)
    """
)


def run_locust_process(vendor: str, vendor_json: str, env_name: str, secret: str) -> str:
    env = {**os.environ, env_name: secret, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, vendor, vendor_json, secret],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def test_a_locust_process_registers_the_vendor_secret_at_init_and_scrubs_its_own_handlers() -> None:
    secret = "sk-master-" + secrets.token_hex(12)
    output = run_locust_process(str(VENDORS / "reference-steady.yaml"), "", "REFERENCE_API_KEY", secret)
    assert secret not in output
    assert output.count(f"Bearer {REDACTED}") == 2 and f"root handler: {REDACTED}" in output


def test_remote_workers_register_the_secret_from_the_profile_sent_with_vendor_json() -> None:
    secret = "sk-remote-" + secrets.token_hex(12)
    profile = yaml.safe_load((VENDORS / "wati-facade.yaml").read_text())
    env_name = profile["auth"]["token_env"]
    output = run_locust_process("", json.dumps(profile), env_name, secret)
    assert secret not in output and f"Bearer {REDACTED}" in output


def test_control_a_process_that_never_read_the_secret_would_print_it() -> None:
    # Without a profile nothing is registered: the child does print the value, so the checks above are not vacuous.
    secret = "sk-control-" + secrets.token_hex(12)
    assert secret in run_locust_process("", "", "REFERENCE_API_KEY", secret)
