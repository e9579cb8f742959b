"""``scrmbench mock serve`` refuses bad input with exit code 2 and one clear line (the serving itself is exercised
by every ``mock_server`` test, which runs the real command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.commands.mock import load_config


def test_non_loopback_host_needs_allow_external(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "serve", "--host", "0.0.0.0"]) == 2
    assert "--allow-external" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("limits: {throughput_per_second: -3}\n", "limits.throughput_per_second"),
        ("faults: [{kind: meteor}]\n", "faults.0.kind"),
        ("phone_numbers: [{id: '1'}, {id: '1'}]\n", "phone_numbers"),
        ("colour: red\n", "colour"),
    ],
)
def test_bad_config_files_name_the_field(
    text: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text(text)
    assert main(["mock", "serve", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and field in err and "Traceback" not in err


def test_sharding_needs_enough_phone_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "serve", "--workers", "2", "--port", "9"]) == 2
    assert "phone numbers" in capsys.readouterr().err


def test_cli_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text("port: 9100\nseed: 4\n")
    config = load_config(path, "localhost", 9200)
    assert (config.host, config.port, config.seed) == ("localhost", 9200, 4)


# RFC 5737 TEST-NET-1: never routed. The serving functions are replaced, so nothing binds any address at all.
FAR_HOST = "192.0.2.10"


@pytest.mark.parametrize(("workers", "server"), [(1, "serve_single"), (2, "serve_sharded")])
def test_allow_external_warns_that_the_mock_is_reachable_from_other_hosts(
    workers: int, server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[str] = []
    monkeypatch.setattr(f"mocks.whatsapp.sharding.{server}", lambda config, *_: served.append(config.host))
    args = ["mock", "serve", "--host", FAR_HOST, "--allow-external", "--workers", str(workers)]
    assert main(args) == 0
    assert served == [FAR_HOST]
    assert f"warning: the mock listens on {FAR_HOST}, reachable from other hosts" in capsys.readouterr().err


def test_the_default_loopback_bind_prints_no_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[str] = []
    monkeypatch.setattr("mocks.whatsapp.sharding.serve_single", lambda config: served.append(config.host))
    assert main(["mock", "serve"]) == 0
    assert served == ["127.0.0.1"]
    assert "warning" not in capsys.readouterr().err


def test_a_far_host_without_the_flag_never_reaches_the_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[str] = []
    monkeypatch.setattr("mocks.whatsapp.sharding.serve_single", lambda config: served.append(config.host))
    assert main(["mock", "serve", "--host", FAR_HOST]) == 2
    assert served == [] and "--allow-external" in capsys.readouterr().err
