"""Profiles: each states its truth, builds valid settings, and bad overrides are ConfigErrors."""

from __future__ import annotations

import re

import pytest

from ground.errors import ConfigError
from mocks.vendors.config import build_settings, parse_assignments
from mocks.vendors.profiles import MANUAL_FAILOVER_S, PROFILES, get_profile, is_ha_profile, truth

EXPECTED = {
    "steady",
    "degrading",
    "flaky-media",
    "lossy",
    "slow-failover",
    "fast-failover",
    "calibrated",
    "understaffed",
}


def test_every_expected_profile_is_registered():
    assert set(PROFILES) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_profile_states_its_truth_with_a_figure(name):
    text = truth(name)
    assert "Truth:" in text
    assert re.search(r"\d", text), "the truth must be a figure the harness can recover"
    settings, front = build_settings(name)
    assert settings.profile == name
    assert (front is not None) == is_ha_profile(name)


def test_profile_settings_match_their_truth():
    degrading, _ = build_settings("degrading")
    assert degrading.workers * 1000 / degrading.service_ms == 40  # μ = 40 msg/s, as documented
    assert not degrading.durable_queue
    flaky, _ = build_settings("flaky-media")
    assert flaky.media_fail_after == 700 and flaky.media_window_s == 3600
    # The stated figures are the settings' own: μ, the climb per second at λ = 41/s over 5 minutes.
    mu = degrading.workers * 1000 / degrading.service_ms
    assert "μ = 2 / 0.05 s = 40 messages/s" in truth("degrading")
    assert (41 - mu) / mu == 0.025 and (41 - mu) / mu * 300 == 7.5
    assert "0.025 s per second, 7.5 s in 5" in " ".join(truth("degrading").split())
    lossy, _ = build_settings("lossy")
    assert lossy.loss_fraction == 0.1 and not lossy.retry.enabled
    assert lossy.workers * 1000 / lossy.service_ms == 20 and lossy.loss_queue_threshold == 20
    assert "forwards at most 20" in truth("lossy") and "20 or more jobs wait" in truth("lossy")
    calibrated, _ = build_settings("calibrated")
    assert calibrated.api_error_rate == 0.02 and calibrated.api_latency is not None
    latency = calibrated.api_latency
    assert (latency.distribution, latency.mean_ms, latency.stddev_ms) == ("lognormal", 100.0, 60.0)
    assert "p50 85.7 ms, p95 213.5 ms, p99 311.5 ms" in " ".join(truth("calibrated").split())


def test_slow_failover_scales_the_research_47_minutes():
    assert get_profile("slow-failover", time_scale=0.01).front.manual_delay_s == pytest.approx(MANUAL_FAILOVER_S * 0.01)
    assert get_profile("slow-failover", time_scale=1.0).front.manual_delay_s == 47 * 60
    fast = get_profile("fast-failover").front
    assert fast.failover == "automatic" and fast.interval_s * fast.failure_threshold <= 2


def test_overrides_are_parsed_nested_and_validated():
    overrides = parse_assignments(
        ["workers=2", "retry.enabled=false", 'agents=["x"]', "instance=abc", "front.interval_s=0.1"]
    )
    assert overrides == {
        "workers": 2,
        "retry": {"enabled": False},
        "agents": ["x"],
        "instance": "abc",
        "front": {"interval_s": 0.1},
    }
    settings, front = build_settings("fast-failover", overrides)
    assert settings.workers == 2 and not settings.retry.enabled and front.interval_s == 0.1


@pytest.mark.parametrize(
    ("profile", "items", "field"),
    [
        ("nope", [], "profile"),
        ("steady", ["workers=0"], "workers"),
        ("steady", ["wrokers=2"], "wrokers"),
        ("steady", ["loss_fraction=1.5"], "loss_fraction"),
        ("steady", ["retry.max_attempts=-1"], "retry.max_attempts"),
        ("fast-failover", ['front.failover="sometimes"'], "failover"),
        ("steady", ["novalue"], "--set"),
    ],
)
def test_bad_profiles_and_overrides_name_the_field(profile, items, field):
    with pytest.raises(ConfigError) as caught:
        build_settings(profile, parse_assignments(items))
    assert field in str(caught.value)
    assert "Fix:" in str(caught.value)


def test_secrets_never_show_in_reprs(monkeypatch):
    monkeypatch.setenv("REFERENCE_API_KEY", "very-secret-key-1")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "very-secret-app-2")
    settings, _ = build_settings("steady")
    assert settings.api_key.get_secret_value() == "very-secret-key-1"
    text = repr(settings) + str(settings.model_dump())
    assert "very-secret-key-1" not in text and "very-secret-app-2" not in text
