"""The reference vendor, the HA front and the facades relay every send to an outbound URL: it must be loopback
unless ``--allow-non-loopback`` (deploy/kubernetes passes it for the pods' own network). Serving is replaced in
every test, so nothing binds and nothing is sent: a refusal test only checks the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.errors import EXIT_BAD_INPUT
from harness.cli import main
from mocks.facades.__main__ import main as facade_main

META = "https://graph.facebook.com"
FAR = "http://192.0.2.10:8900"  # RFC 5737 TEST-NET-1, never routed


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr("harness.commands.vendor._serve", lambda app, host, port: calls.append((host, port)))
    return calls


def reference(tmp_path: Path, *extra: str) -> list[str]:
    return ["vendor", "serve", "reference", "--db", str(tmp_path / "v.db"), "--port", "8911", *extra]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--whatsapp-url", META], "--whatsapp-url"),
        (["--whatsapp-url", FAR], "--whatsapp-url"),
        (["--set", 'shard_routes={"100000000000001": "http://192.0.2.10:8901"}'], "shard_routes"),
    ],
)
def test_the_reference_vendor_refuses_a_non_loopback_graph_url(
    extra: list[str],
    field: str,
    tmp_path: Path,
    served: list[tuple[str, int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(reference(tmp_path, *extra)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.replace("\n", " ")
    assert f"field '{field}'" in err and "is not loopback" in err and "--allow-non-loopback" in err
    assert served == []


def test_the_reference_vendor_serves_a_loopback_or_an_allowed_graph_url(
    tmp_path: Path, served: list[tuple[str, int]]
) -> None:
    assert main(reference(tmp_path, "--whatsapp-url", "http://localhost:8900")) == 0
    # deploy/kubernetes/scrmbench.yaml: the vendor pod reaches the mock service by name, with the flag
    assert main(reference(tmp_path, "--whatsapp-url", "http://mock:8900", "--allow-non-loopback")) == 0
    assert served == [("127.0.0.1", 8911), ("127.0.0.1", 8911)]


def test_the_front_refuses_a_non_loopback_backend_unless_allowed(
    served: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    front = ["vendor", "serve", "front", "--backend", "http://127.0.0.1:8911", "--backend", FAR]
    assert main(front) == EXIT_BAD_INPUT
    assert "field '--backend'" in capsys.readouterr().err.replace("\n", " ")
    assert served == []
    assert main([*front, "--allow-non-loopback"]) == 0
    assert served == [("127.0.0.1", 8920)]


def test_the_ha_pair_refuses_a_non_loopback_graph_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[object] = []
    monkeypatch.setattr("mocks.vendors.launch.launch_ha_pair", lambda *args, **kwargs: started.append(args))
    argv = ["vendor", "serve", "ha-pair", "--whatsapp-url", META, "--db", str(tmp_path / "ha.db")]
    assert main(argv) == EXIT_BAD_INPUT
    assert "field '--whatsapp-url'" in capsys.readouterr().err.replace("\n", " ")
    assert started == []


@pytest.fixture
def facade_served(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr("mocks.facades.__main__.uvicorn.run", lambda app, **kwargs: calls.append(kwargs["port"]))
    return calls


@pytest.mark.parametrize("dialect", ["twilio", "wati", "360dialog"])
def test_a_facade_refuses_a_non_loopback_graph_url_unless_allowed(
    dialect: str, facade_served: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--dialect", dialect, "--port", "8931", "--whatsapp-url", META]
    assert facade_main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.replace("\n", " ")
    assert "field '--whatsapp-url'" in err and "--allow-non-loopback" in err
    assert facade_served == []
    assert facade_main([*argv, "--allow-non-loopback"]) == 0
    assert facade_main(["--dialect", dialect, "--port", "8932", "--whatsapp-url", "http://127.0.0.1:8900"]) == 0
    assert facade_served == [8931, 8932]
