from __future__ import annotations

import math

import pytest

from mocks.whatsapp.webhooks.config import Delay, LadderConfig
from mocks.whatsapp.webhooks.ladder import StatusLadder
from mocks.whatsapp.webhooks.retry import RetryPolicy
from tests.mocks.whatsapp.webhooks.helpers import outbound

N = 6000


def within(observed: int, n: int, p: float) -> bool:
    """Observed count inside a 5-sigma binomial band around n*p (false alarms: about 1 in 3 million)."""
    sigma = math.sqrt(n * p * (1 - p))
    return abs(observed - n * p) <= 5 * sigma + 1


def test_ladder_order_and_rates_over_many_messages() -> None:
    config = LadderConfig(failed_rate=0.05, read_share=0.6, read_receipts_off_share=0.2, skip_delivered_share=0.1)
    ladder = StatusLadder(config, seed=7)
    failed = read = skipped = 0
    for n in range(N):
        steps = ladder.plan(f"wamid.{n}", recipient=f"49151{n:08d}")
        names = [s.status for s in steps]
        offsets = [s.offset_s for s in steps]
        assert offsets == sorted(offsets) and offsets[0] >= 0
        assert names in (["failed"], ["sent", "delivered"], ["sent", "delivered", "read"], ["sent", "read"])
        skipped += names == ["sent", "read"]
        if names == ["failed"]:
            failed += 1
            assert steps[0].error_code in config.failed_codes
        read += names[-1] == "read"
    assert within(failed, N, 0.05)
    # read needs receipts on (80%) and the read draw (60%) among the non-failed.
    assert within(read, N - failed, 0.8 * 0.6)
    # delivered and read at once (no delivered webhook) for skip_delivered_share of the read ones.
    assert within(skipped, read, 0.1)


def test_users_with_read_receipts_off_never_send_read() -> None:
    ladder = StatusLadder(LadderConfig(failed_rate=0.0, read_share=1.0, read_receipts_off_share=0.5), seed=1)
    off = [f"4915{n:09d}" for n in range(400) if ladder.read_receipts_off(f"4915{n:09d}")]
    assert within(len(off), 400, 0.5)
    for recipient in off:
        for n in range(5):
            assert "read" not in [s.status for s in ladder.plan(f"wamid.{recipient}.{n}", recipient)]


def test_ladder_is_reproducible_from_the_seed_and_differs_across_seeds() -> None:
    config = LadderConfig(failed_rate=0.1)
    first = [StatusLadder(config, seed=5).plan(f"w{n}", "4915100000001") for n in range(200)]
    again = [StatusLadder(config, seed=5).plan(f"w{n}", "4915100000001") for n in reversed(range(200))][::-1]
    other = [StatusLadder(config, seed=6).plan(f"w{n}", "4915100000001") for n in range(200)]
    assert first == again
    assert first != other


def test_forced_error_fails_with_that_code_and_no_pricing() -> None:
    ladder = StatusLadder(LadderConfig(failed_rate=0.0), seed=1)
    updates = ladder.updates(outbound(1, error_code=131026))
    assert len(updates) == 1
    body = updates[0][1].body
    assert body["status"] == "failed" and body["errors"][0]["code"] == 131026
    assert "pricing" not in body and "conversation" not in body
    assert body["biz_opaque_callback_data"] == "cb-1"


def test_status_objects_follow_meta_shape() -> None:
    ladder = StatusLadder(LadderConfig(failed_rate=0.0, read_share=1.0, read_receipts_off_share=0.0), seed=1)
    bodies = [u.body for _, u in ladder.updates(outbound(2, type="template", category="marketing"))]
    assert [b["status"] for b in bodies] == ["sent", "delivered", "read"]
    assert all(isinstance(b["timestamp"], str) and b["timestamp"].isdigit() for b in bodies)
    sent = bodies[0]
    assert sent["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    assert sent["conversation"]["origin"] == {"type": "marketing"}
    assert sent["conversation"]["id"] == bodies[1]["conversation"]["id"]
    assert "pricing" not in bodies[2]


@pytest.mark.parametrize(
    ("delay", "low", "high"),
    [
        (Delay(ms=250), 0.25, 0.25),
        (Delay(distribution="uniform", min_ms=100, max_ms=300), 0.1, 0.3),
        (Delay(distribution="lognormal", mean_ms=500, stddev_ms=200), 0.0, math.inf),
    ],
)
def test_delay_samples_stay_in_range(delay: Delay, low: float, high: float) -> None:
    import random

    rng = random.Random(1)
    samples = [delay.sample_s(rng) for _ in range(2000)]
    assert all(low <= s <= high for s in samples)
    if delay.distribution == "lognormal":
        assert 0.45 < sum(samples) / len(samples) < 0.55


def test_retry_schedule_decreases_in_frequency_and_ends_at_the_horizon() -> None:
    policy = RetryPolicy(time_compression=1.0)
    offsets = policy.schedule()
    gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
    assert gaps[0] == 0.0  # Meta retries immediately first
    assert gaps == sorted(gaps)  # then less and less often
    assert offsets[-1] <= 7 * 86400 < offsets[-1] + 86400
    compressed = RetryPolicy(time_compression=10080.0).schedule()
    assert compressed == pytest.approx([o / 10080.0 for o in offsets])
    assert compressed[-1] <= 60.0


def test_retry_is_dropped_after_the_horizon() -> None:
    policy = RetryPolicy(time_compression=10080.0)
    assert policy.next_at(first_attempt_at=0.0, failed_attempt=0, now=0.0) == 0.0
    assert policy.next_at(first_attempt_at=0.0, failed_attempt=3, now=59.99) is None
