"""The profile's ``callbacks`` block and a facade's ``launch.reports`` are checked where the profile is read, and the
run gives the receiver's URL only to adapters that take one with every send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.errors import ConfigError
from harness.adapters.registry import callback_secret, parse_profile, takes_callback_url

VENDORS = Path(__file__).resolve().parents[3] / "vendors"


def _profile(name: str, **changes: Any) -> Any:
    data = yaml.safe_load((VENDORS / name).read_text())
    data.update(changes)
    return parse_profile(data, source=name)


def test_the_shipped_callback_profiles_parse_and_the_dishonest_one_says_its_truth() -> None:
    honest = _profile("twilio-facade-callbacks.yaml")
    dishonest = _profile("twilio-facade-dishonest.yaml")
    assert honest.callbacks is not None and honest.callbacks.dialect == "twilio" and honest.launch.reports is None
    reports = dishonest.launch.reports
    assert reports is not None
    assert (reports.drop_share, reports.report_dropped_as, reports.fake_read_share) == (0.1, "delivered", 0.5)
    assert reports.as_args() == ["--drop-share", "0.1", "--report-dropped-as", "delivered", "--fake-read-share", "0.5"]


def test_the_signing_key_is_the_auth_token_unless_the_block_names_its_own_variable() -> None:
    profile = _profile("twilio-facade-callbacks.yaml")
    assert callback_secret(profile, environ={"TWILIO_AUTH_TOKEN": "tok", "TWILIO_ACCOUNT_SID": "AC1"}) == "tok"
    own = _profile("twilio-facade-callbacks.yaml", callbacks={"dialect": "twilio", "secret_env": "HOOK_KEY"})
    assert callback_secret(own, environ={"HOOK_KEY": "k"}) == "k"


def test_only_per_message_adapters_get_the_url_with_each_send() -> None:
    assert takes_callback_url(_profile("twilio-facade-callbacks.yaml"))
    assert not takes_callback_url(_profile("wati-facade.yaml", callbacks={"dialect": "wati"}))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"callbacks": {"dialect": "twilio", "secret_env": "my-actual-token"}}, "NAME of an environment variable"),
        ({"callbacks": {"dialect": "twilio", "public_url": "ftp://x"}}, "http"),
        ({"callbacks": {"dialect": "twilio", "max_per_s": 0}}, "greater than 0"),
        ({"callbacks": {"dialect": "smoke-signals"}}, "unknown callback dialect"),
        ({"callbacks": {"dialect": "generic", "options": {"id": "x"}}}, r"callbacks\.options\.status"),
        ({"launch": {"kind": "facade", "dialect": "wati", "reports": {"drop_share": 0.1}}}, "dialect 'twilio'"),
        ({"launch": {"kind": "facade", "dialect": "twilio", "reports": {"fake_read_share": 2}}}, "less than or equal"),
    ],
)
def test_bad_blocks_are_refused_naming_the_field(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        _profile("twilio-facade-callbacks.yaml", **changes)
