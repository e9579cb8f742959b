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

from ground.secrets import REDACTED, read_secret
from harness.adapters.base import Outcome
from harness.adapters.executors import failure_message, outcome_context
from harness.loadgen.operations import _mark

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


class FakeResponse:
    """What Locust's ``catch_response`` context hands ``_mark``: ``request_meta`` and success/failure."""

    def __init__(self) -> None:
        self.request_meta: dict[str, Any] = {"context": {}}
        self.failures: list[str] = []

    def success(self) -> None:
        raise AssertionError("a failed outcome was marked a success")

    def failure(self, text: str) -> None:
        self.failures.append(text)


def test_failure_texts_and_record_fields_never_carry_a_registered_secret() -> None:
    secret = "sk-fail-" + secrets.token_hex(12)
    read_secret("SCRMBENCH_TEST_FAIL_KEY", environ={"SCRMBENCH_TEST_FAIL_KEY": secret})
    outcome = echoed_outcome(secret)

    message = failure_message(outcome)
    assert secret not in message and f"rejected Bearer {REDACTED}" in message
    context = outcome_context(outcome)
    assert secret not in str(context)
    assert context["vendor_message_id"] == f"wamid.{REDACTED}" and context["correlation_id"] == "sb-aaaaaa-1"

    response = FakeResponse()
    _mark(response, outcome)
    assert response.failures and secret not in response.failures[0]
    assert f"rejected Bearer {REDACTED}" in response.failures[0]
    assert secret not in str(response.request_meta["context"])
    assert response.request_meta["context"]["error_code"] == f"bad_key:{REDACTED}"


def test_a_long_vendor_text_is_scrubbed_before_it_is_cut() -> None:
    # Cutting first could leave half a key behind, which no redactor would recognise any more.
    secret = "sk-long-" + secrets.token_hex(12)
    read_secret("SCRMBENCH_TEST_LONG_KEY", environ={"SCRMBENCH_TEST_LONG_KEY": secret})
    outcome = echoed_outcome(secret)
    padded = replace(outcome, error_text="x" * 270 + secret)
    response = FakeResponse()
    _mark(response, padded)
    assert secret[:12] not in response.failures[0]


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
