from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from ground.errors import EXIT_BAD_INPUT, ConfigError, TargetRefused
from ground.loading import load_model, parse_yaml
from ground.net import check_target, is_loopback


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    rate: float = Field(gt=0)


def test_config_error_names_file_line_field_value_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("name: acme\nrate: -3\n")
    with pytest.raises(ConfigError) as info:
        load_model(Sample, path)
    message = str(info.value)
    assert f"{path}:2" in message
    assert "field 'rate'" in message
    assert "-3" in message
    assert "Fix:" in message
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_unknown_key_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: acme\nrate: 1\nrtae: 2\n")
    with pytest.raises(ConfigError, match=r"p.yaml:3: field 'rtae'"):
        load_model(Sample, path)


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(ConfigError, match=r"x.yaml:2: this is not valid YAML"):
        parse_yaml("name: a\n  rate: [1\n", source="x.yaml")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        parse_yaml("name: a\nname: b\n", source="d.yaml")


def test_unsafe_yaml_tags_are_refused() -> None:
    with pytest.raises(ConfigError):
        parse_yaml("!!python/object/apply:os.system ['true']\n", source="evil.yaml")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_model(Sample, tmp_path / "nope.yaml")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "localhost", "[::1]", "::1"])
def test_loopback_is_always_allowed(host: str) -> None:
    assert is_loopback(host)
    check_target(f"http://{host.strip('[]') if ':' not in host.strip('[]') else '[' + host.strip('[]') + ']'}:80/")


@pytest.mark.parametrize("url", ["http://203.0.113.5/", "https://vendor.example.com/api", "http://0.0.0.0:80/"])
def test_non_loopback_target_is_refused_without_allowlist(url: str) -> None:
    with pytest.raises(TargetRefused, match="allowed_targets"):
        check_target(url)


def test_allowlisted_target_still_needs_confirmation() -> None:
    with pytest.raises(TargetRefused, match="--i-own-this-target"):
        check_target("https://vendor.example.com/", ["vendor.example.com"])
    check_target("https://vendor.example.com/", ["vendor.example.com"], owner_confirmed=True)
