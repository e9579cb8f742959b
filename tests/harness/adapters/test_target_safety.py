"""Target safety: a run through any adapter is refused before its first request (and before any secret is read)
unless the target is loopback, or allowlisted in the profile and confirmed with --i-own-this-target."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from ground.errors import EXIT_BAD_INPUT, TargetRefused
from harness.adapters.executors import connect
from harness.adapters.locust_executor import LocustExecutor
from harness.adapters.registry import parse_profile
from harness.cli import main

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
ADAPTER_FILES = [
    "reference-steady.yaml",
    "cloud-api-mock.yaml",
    "360dialog-facade.yaml",
    "twilio-facade.yaml",
    "wati-facade.yaml",
    "generic-http-example.yaml",
]


def _profile(file: str, base_url: str, allowed: list[str] | None = None):
    data = yaml.safe_load((VENDORS / file).read_text())
    data["base_url"] = base_url
    data["allowed_targets"] = allowed or []
    return parse_profile(data, source=file)


class Counting:
    """A transport that counts what reached it: the proof that nothing was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"status": "ok"})


@pytest.mark.parametrize("file", ADAPTER_FILES)
@pytest.mark.parametrize(
    ("url", "allowed", "confirmed", "reason"),
    [
        ("https://api.acme.example", [], False, "not in the profile's allowed_targets"),
        ("https://api.acme.example", [], True, "not in the profile's allowed_targets"),
        ("https://api.acme.example", ["api.acme.example"], False, "not confirmed"),
        ("http://203.0.113.8:8910", ["api.acme.example"], True, "not in the profile's allowed_targets"),
        ("http://localhost.evil.example:8910", [], False, "not in the profile's allowed_targets"),
        ("http://127.0.0.1.nip.io:8910", [], False, "not in the profile's allowed_targets"),
    ],
)
def test_unsafe_targets_are_refused_before_the_first_request(file, url, allowed, confirmed, reason) -> None:
    transport = Counting()
    profile = _profile(file, url, allowed)
    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        with pytest.raises(TargetRefused, match=reason) as caught:
            # No secret in the environment: the refusal must come before any credential is read.
            connect(profile, owner_confirmed=confirmed, client=client, environ={})
    assert transport.requests == []
    assert "--i-own-this-target" in str(caught.value) and "Fix:" in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8910", "http://localhost:8910", "http://[::1]:8910"])
def test_loopback_is_always_allowed(url: str) -> None:
    transport = Counting()
    profile = _profile("reference-steady.yaml", url)
    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        assert connect(profile, client=client, environ={}).health().ok
    assert len(transport.requests) == 1


def test_an_allowlisted_and_confirmed_target_is_allowed() -> None:
    transport = Counting()
    profile = _profile("reference-steady.yaml", "https://api.acme.example", ["api.acme.example"])
    with httpx.Client(transport=httpx.MockTransport(transport)) as client:
        vendor = connect(profile, owner_confirmed=True, client=client, environ={"REFERENCE_API_KEY": "k-123456"})
        assert vendor.health().ok
    assert [str(request.url) for request in transport.requests] == ["https://api.acme.example/health"]


def test_the_dev_default_secret_never_applies_to_a_remote_target() -> None:
    profile = _profile("reference-steady.yaml", "https://api.acme.example", ["api.acme.example"])
    with pytest.raises(Exception, match="REFERENCE_API_KEY is not set"):
        connect(profile, owner_confirmed=True, environ={})


def test_the_locust_executor_refuses_too() -> None:
    with pytest.raises(TargetRefused):
        LocustExecutor(object(), base_url="https://api.acme.example")
    with pytest.raises(TargetRefused, match="not confirmed"):
        LocustExecutor(object(), base_url="https://api.acme.example", allowed_targets=["api.acme.example"])


def test_vendors_check_refuses_with_exit_2_and_the_fix(tmp_path: Path, capsys) -> None:
    data = yaml.safe_load((VENDORS / "twilio-facade.yaml").read_text())
    data["base_url"] = "https://api.twilio.com"
    path = tmp_path / "twilio-real.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["vendors", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "api.twilio.com" in err and "allowed_targets" in err and "--i-own-this-target" in err


@pytest.mark.parametrize(
    ("allowed", "reason"),
    [([], "not in the profile's allowed_targets"), (["192.0.2.10"], "not confirmed")],
)
def test_a_refused_run_leaves_no_results_folder_and_connects_nowhere(
    allowed: list[str], reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real run path (``scrmbench run``): refused before the results folder is made and before any socket
    connects or any process starts. The spies fail loudly instead of letting a connection leave loopback."""
    data = yaml.safe_load((VENDORS / "generic-http-example.yaml").read_text())
    # 192.0.2.10 is TEST-NET-1 (documentation, never routed); the spies below prove nothing connects to it.
    data.update(base_url="http://192.0.2.10:8910", allowed_targets=allowed, launch={"kind": "none"})
    profile = tmp_path / "remote.yaml"
    profile.write_text(yaml.safe_dump(data))
    out = tmp_path / "results"
    attempts: list[object] = []

    def no_connection(_socket: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("test: this run must not connect anywhere")

    def no_process(*args: object, **_: object) -> None:
        attempts.append(args)
        raise OSError("test: this run must not start a process")

    monkeypatch.setattr(socket.socket, "connect", no_connection)
    monkeypatch.setattr(socket.socket, "connect_ex", no_connection)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    code = main(["run", "--vendor", str(profile), "--scenario", "peak", "--quick", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.replace("\n", " ")
    assert code == EXIT_BAD_INPUT
    assert "192.0.2.10" in err and reason in err and "Fix:" in err
    assert not out.exists() or not any(out.iterdir())  # no run folder, no manifest.json, no faults.jsonl
    assert attempts == []
