"""Vendor profiles: every shipped example loads; 30+ broken profiles and CLI inputs are each refused with a
message naming the file, the field, the bad value and the fix (never a traceback)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.errors import ConfigError
from harness.adapters.registry import load_profile
from harness.cli import main
from tests.fixtures.vendors import MINIMAL_PROFILE

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
SHIPPED = sorted(VENDORS.glob("*.yaml"))

BASE: dict[str, Any] = {**MINIMAL_PROFILE, "timeouts": {"default": 10}}
MISSING = object()


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if value is MISSING:
        del node[parts[-1]]
    elif isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return data


# (case id, dotted path, new value or MISSING, field expected in the message)
BAD_PROFILES: list[tuple[str, str, Any, str]] = [
    ("unknown top-level key", "colour", "blue", "colour"),
    ("unknown auth key", "auth.tokn_env", "X", "auth.tokn_env"),
    ("unknown capability key", "capabilities.can_point_at_moc", True, "capabilities.can_point_at_moc"),
    ("missing name", "name", MISSING, "name"),
    ("missing base_url", "base_url", MISSING, "base_url"),
    ("missing phone numbers", "phone_numbers", MISSING, "phone_numbers"),
    ("name with a slash", "name", "../../etc", "name"),
    ("name upper case", "name", "ACME Corp", "name"),
    ("name wrong type", "name", ["acme"], "name"),
    ("base_url not a URL", "base_url", "127.0.0.1:8910", "base_url"),
    ("base_url ftp", "base_url", "ftp://127.0.0.1/", "base_url"),
    ("base_url with credentials", "base_url", "http://user:pw@127.0.0.1:8910", "base_url"),
    ("base_url with query", "base_url", "http://127.0.0.1:8910/?key=abc", "base_url"),
    ("base_url bad port", "base_url", "http://127.0.0.1:99999", "base_url"),
    ("unknown adapter", "adapter", "telegram", "adapter"),
    ("auth scheme unknown", "auth.scheme", "oauth3", "auth.scheme"),
    ("secret instead of env name", "auth.token_env", "sk_live_abc123", "auth.token_env"),
    ("bearer without token_env", "auth", {"scheme": "bearer"}, "auth"),
    ("basic without password_env", "auth", {"scheme": "basic", "username_env": "U"}, "auth"),
    ("header scheme without header", "auth", {"scheme": "header", "token_env": "K"}, "auth"),
    ("header name with spaces", "auth", {"scheme": "header", "token_env": "K", "header": "X Key"}, "auth.header"),
    (
        "auth scheme the adapter lacks",
        "auth",
        {"scheme": "basic", "username_env": "U", "password_env": "P"},
        "auth.scheme",
    ),
    ("phone number with letters", "phone_numbers.0.number", "+1555CALLNOW", "phone_numbers.0.number"),
    ("phone number too short", "phone_numbers.0.number", "+123", "phone_numbers.0.number"),
    ("phone numbers empty", "phone_numbers", [], "phone_numbers"),
    ("operations empty", "capabilities.operations", [], "capabilities.operations"),
    ("unknown operation", "capabilities.operations", ["send_text", "send_fax"], "capabilities.operations.1"),
    ("operation listed twice", "capabilities.operations", ["health", "health"], "capabilities.operations"),
    ("mock_url without flag", "capabilities.mock_url", "http://127.0.0.1:8900", "capabilities.mock_url"),
    (
        "mock_url not a URL",
        "capabilities",
        {"operations": ["health"], "can_point_at_mock": True, "mock_url": "mock"},
        "capabilities.mock_url",
    ),
    ("negative timeout", "timeouts.send_text", -3, "timeouts.send_text"),
    ("zero default timeout", "timeouts.default", 0, "timeouts.default"),
    ("absurd timeout", "timeouts.health", 86400, "timeouts.health"),
    ("timeout as text", "timeouts.default", "ten", "timeouts.default"),
    ("timeout for unknown op", "timeouts.send_fax", 5, "timeouts.send_fax"),
    ("allowed target with scheme", "allowed_targets", ["https://api.acme.com"], "allowed_targets"),
    ("allowed target wildcard", "allowed_targets", ["*.acme.com"], "allowed_targets"),
    ("allowed targets not a list", "allowed_targets", {"host": "acme.com"}, "allowed_targets"),
    ("launch kind unknown", "launch", {"kind": "kubernetes"}, "launch.kind"),
    ("launch reference without profile", "launch", {"kind": "reference"}, "launch"),
    ("launch facade without dialect", "launch", {"kind": "facade"}, "launch"),
    ("launch port privileged", "launch", {"kind": "none", "port": 80}, "launch.port"),
    ("failover method unknown", "failover", {"method": "prayer"}, "failover.method"),
    ("failover container without target", "failover", {"method": "container"}, "failover"),
    ("unknown adapter option", "options", {"agnet": "a"}, "options.agnet"),
    ("notes wrong type", "notes", {"a": 1}, "notes"),
]

ADAPTER_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("cloud-api bad dialect", {"adapter": "cloud-api", "options": {"dialect": "gupshup"}}, "options.dialect"),
    ("cloud-api bad version", {"adapter": "cloud-api", "options": {"api_version": "23"}}, "options.api_version"),
    (
        "twilio bad account sid",
        {
            "adapter": "twilio",
            "auth": {"scheme": "basic", "username_env": "U", "password_env": "P"},
            "capabilities": {"operations": ["send_text"]},
            "options": {"account_sid": "AC123"},
        },
        "options.account_sid",
    ),
    (
        "twilio upload not offered",
        {
            "adapter": "twilio",
            "auth": {"scheme": "basic", "username_env": "U", "password_env": "P"},
            "capabilities": {"operations": ["upload_media"]},
        },
        "capabilities.operations[0]",
    ),
    (
        "wati bad prefix",
        {"adapter": "wati", "capabilities": {"operations": ["send_text"]}, "options": {"api_prefix": "api v1"}},
        "options.api_prefix",
    ),
    (
        "generic undescribed operation",
        {
            "adapter": "generic-http",
            "capabilities": {"operations": ["send_text", "health"]},
            "options": {"operations": {"health": {"method": "GET", "path": "/health"}}},
        },
        "capabilities.operations[0]",
    ),
    (
        "generic absolute path",
        {
            "adapter": "generic-http",
            "capabilities": {"operations": ["health"]},
            "options": {"operations": {"health": {"method": "GET", "path": "http://evil.example/health"}}},
        },
        "options.operations.health.path",
    ),
    (
        "generic unknown placeholder",
        {
            "adapter": "generic-http",
            "capabilities": {"operations": ["health"]},
            "options": {"operations": {"health": {"path": "/h/{password}"}}},
        },
        "options.operations.health",
    ),
    (
        "generic two bodies",
        {
            "adapter": "generic-http",
            "capabilities": {"operations": ["health"]},
            "options": {"operations": {"health": {"path": "/h", "json": {}, "form": {}}}},
        },
        "options.operations.health",
    ),
    (
        "generic impossible status",
        {
            "adapter": "generic-http",
            "capabilities": {"operations": ["health"]},
            "options": {"operations": {"health": {"path": "/h", "success": {"status": [700]}}}},
        },
        "options.operations.health.success.status",
    ),
]


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _assert_names_everything(error: ConfigError, path: Path, field: str) -> None:
    text = str(error)
    assert str(path) in text, text
    assert error.field is not None and error.field.startswith(field.split("[")[0].split(".")[0]), (error.field, text)
    assert field.replace("[", ".").replace("]", "") in text.replace("[", ".").replace("]", ""), text
    assert "Fix:" in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("path", SHIPPED, ids=[path.name for path in SHIPPED])
def test_every_shipped_profile_loads(path: Path) -> None:
    profile = load_profile(path)
    assert profile.name == path.stem
    assert profile.launch.kind != "none"  # each example can be started locally by vendors check --launch


def test_the_base_profile_is_valid(tmp_path: Path) -> None:
    assert load_profile(_write(tmp_path, BASE)).name == "acme"


@pytest.mark.parametrize(("case", "where", "value", "field"), BAD_PROFILES, ids=[c[0] for c in BAD_PROFILES])
def test_bad_profile_is_refused_with_file_field_value_and_fix(tmp_path, case, where, value, field) -> None:
    path = _write(tmp_path, _set(BASE, where, value))
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    _assert_names_everything(caught.value, path, field)
    if value is not MISSING and not isinstance(value, dict | list) and caught.value.field == field:
        assert repr(value) in str(caught.value) or str(value) in str(caught.value), str(caught.value)


@pytest.mark.parametrize(("case", "changes", "field"), ADAPTER_BAD, ids=[c[0] for c in ADAPTER_BAD])
def test_bad_adapter_settings_are_refused(tmp_path, case, changes, field) -> None:
    path = _write(tmp_path, {**BASE, **changes})
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    _assert_names_everything(caught.value, path, field)


def test_errors_carry_the_yaml_line(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    text = yaml.safe_dump(_set(BASE, "timeouts.send_text", -3), sort_keys=False)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "send_text: -3" in row)
    assert caught.value.line == line
    assert f"{path}:{line}:" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("", "empty"),
        ("- just\n- a list\n", "mapping"),
        ("name: a\nname: b\n", "twice"),
        ("!!python/object:os.system {}\n", "not valid YAML"),  # the safe loader refuses arbitrary objects
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_profile(path)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["vendors", "check", "does-not-exist.yaml"], "does not exist"),
        (["vendors", "check", "BASE", "--to", "call-me"], "--to"),
        (["vendors", "check", "BAD"], "timeouts.default"),
    ],
)
def test_cli_inputs_exit_2_with_one_clear_line(tmp_path, capsys, args, needle) -> None:
    good = _write(tmp_path, BASE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_set(BASE, "timeouts.default", -1)), encoding="utf-8")
    argv = [str(good) if arg == "BASE" else str(bad) if arg == "BAD" else arg for arg in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_the_old_load_profile_path_still_works_with_a_deprecation_warning() -> None:
    import harness.config.profiles as old

    with pytest.warns(DeprecationWarning, match=r"harness\.adapters\.registry\.load_profile"):
        moved = old.load_profile
    assert moved is load_profile
