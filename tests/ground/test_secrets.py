"""Secrets: read only from the environment, and scrubbed from logs, recorded error texts, manifests and request
reprs, even when a hostile vendor echoes the key back in its error message."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import yaml

from ground.errors import ConfigError
from ground.records import RunManifest
from ground.secrets import REDACTED, RedactingFilter, SecretRegistry, install_log_redaction, read_secret
from harness.adapters.executors import connect
from harness.adapters.registry import load_profile, parse_profile
from harness.recorder import (
    RequestRecorder,
    ShardSink,
    read_requests,
)
from harness.results import complete_manifest, run_directory, write_manifest

VENDORS = Path(__file__).resolve().parents[2] / "vendors"


def test_read_secret_registers_the_value_and_says_which_variable_is_missing() -> None:
    registry = SecretRegistry()
    assert read_secret("ACME_KEY", environ={"ACME_KEY": "abcd-1234"}, registry=registry) == "abcd-1234"
    assert registry.redact("key=abcd-1234;") == f"key={REDACTED};"
    with pytest.raises(ConfigError, match="ACME_MISSING is not set") as caught:
        read_secret("ACME_MISSING", environ={}, registry=registry, source="acme.yaml", field="auth.token_env")
    assert "export ACME_MISSING" in str(caught.value)


def test_longer_secrets_win_and_short_values_are_not_scrubbed() -> None:
    registry = SecretRegistry()
    registry.add("abcd")
    registry.add("abcd-efgh-ijkl")
    registry.add("x1")  # too short to scrub safely
    assert registry.redact("abcd-efgh-ijkl abcd x1") == f"{REDACTED} {REDACTED} x1"


def test_redact_data_scrubs_values_and_secret_named_keys_but_keeps_env_names() -> None:
    registry = SecretRegistry()
    registry.add("tok-123456")
    data = {"auth": {"token_env": "ACME_TOKEN", "password": "hunter2", "header": "X-Key"}, "notes": ["tok-123456"]}
    assert registry.redact_data(data) == {
        "auth": {"token_env": "ACME_TOKEN", "password": REDACTED, "header": "X-Key"},
        "notes": [REDACTED],
    }


def test_the_log_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    registry = SecretRegistry()
    registry.add("sk-live-abcdef")
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(RedactingFilter(registry))
    logger = logging.getLogger("test.secrets.filter")
    logger.addHandler(handler)
    try:
        logger.warning("vendor said %s", "bad key sk-live-abcdef")
        try:
            raise RuntimeError("auth failed for sk-live-abcdef")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    assert records and all("sk-live-abcdef" not in text for text in records)
    assert "auth failed for [redacted]" in records[1]


def test_a_session_with_an_echoing_vendor_leaves_no_secret_in_results_or_logs(tmp_path, monkeypatch, caplog) -> None:
    secret = "sk-test-" + secrets.token_hex(12)
    monkeypatch.setenv("REFERENCE_API_KEY", secret)

    def echoing_vendor(request: httpx.Request) -> httpx.Response:
        # A hostile or careless vendor: its error text quotes the credential it was given.
        if request.url.path == "/api/messages":
            return httpx.Response(401, json={"error": {"code": "bad_key", "message": request.headers["authorization"]}})
        return httpx.Response(202, json={"id": "msg_1", "status": "queued"})

    results = tmp_path / "results"
    results.mkdir()
    run_dir = run_directory(results, "secret-run")
    log_file = run_dir / "harness.log"
    file_handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    root.addHandler(file_handler)
    root.setLevel(logging.DEBUG)
    install_log_redaction()
    caplog.handler.addFilter(RedactingFilter())
    try:
        profile = load_profile(VENDORS / "reference-steady.yaml")
        write_manifest(run_dir, RunManifest(run_id="secret-run", scenario="probe", started_at=1.0,
                                            vendor=profile.public_dict()))  # fmt: skip
        sink = ShardSink(run_dir / "requests", "w0")
        recorder = RequestRecorder(sink, vendor=profile.name)
        with httpx.Client(transport=httpx.MockTransport(echoing_vendor)) as client:
            vendor = connect(profile, client=client, request_hook=recorder)
            failed = vendor.send_text("+4915112345678", "hi", correlation_id="sb-aaaaaa-1")
            ok = vendor.send_template("+4915112345678", "promo", ("Ada",), correlation_id="sb-aaaaaa-2")
            logging.getLogger("scrmbench.test").warning("send failed: %r", failed)
            logging.getLogger("scrmbench.test").debug("request was %r", vendor.adapter.build(vendor_call()))
        recorder.close()
        complete_manifest(run_dir, ended_at=2.0)
    finally:
        root.removeHandler(file_handler)
        file_handler.close()
    assert secret in (failed.error_text or "")  # the vendor did echo it: the outcome holds it in memory only
    assert ok.ok
    rows = read_requests(run_dir).to_pylist()
    assert [row["error_code"] for row in rows] == ["bad_key", None]
    assert rows[0]["error_text"] == f"Bearer {REDACTED}"
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
            if path.suffix == ".parquet":
                assert secret not in str(pq.read_table(path).to_pylist()), path
    assert "send failed" in log_file.read_text()
    assert secret not in caplog.text


def vendor_call():
    from harness.adapters.base import SendText

    return SendText("+4915112345678", "hi", "sb-aaaaaa-3")


def test_profiles_with_a_secret_in_place_of_a_variable_name_are_refused() -> None:
    data = yaml.safe_load((VENDORS / "wati-facade.yaml").read_text())
    data["auth"]["token_env"] = "eyJhbGciOiJIUzI1NiJ9.secret"
    with pytest.raises(ConfigError, match="NAME of an environment variable"):
        parse_profile(data, source="wati.yaml")


def test_the_public_profile_carries_variable_names_only() -> None:
    public = load_profile(VENDORS / "twilio-facade.yaml").public_dict()
    assert public["auth"] == {
        "scheme": "basic",
        "token_env": None,
        "username_env": "TWILIO_ACCOUNT_SID",
        "password_env": "TWILIO_AUTH_TOKEN",
        "header": None,
    }


@pytest.mark.parametrize("debug", [False, True])
def test_cli_errors_and_debug_tracebacks_are_scrubbed(tmp_path, monkeypatch, capsys, debug) -> None:
    from harness.cli import main

    secret = "sk-cli-" + secrets.token_hex(8)
    monkeypatch.setenv("ACME_TOKEN", secret)
    read_secret("ACME_TOKEN")  # what connecting to a vendor does first
    missing = tmp_path / f"profile-{secret}.yaml"  # any error text that happens to carry the value
    assert main([*(["--debug"] if debug else []), "vendors", "check", str(missing)]) == 2
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert REDACTED in captured.err
