"""The reference vendor's profiles: named, known behaviours the harness must measure correctly.

Each profile is a function registered under its name. Its docstring is its *truth*: the figure the harness
must recover when it runs against it (calibration). The function returns the ``VendorSettings`` overrides and,
for the HA profiles, the ``FrontSettings`` of the pair's front.

``time_scale`` compresses the research's durations (47 minutes of manual failover) so a run fits a test or a
demo: 0.01 turns 47 minutes into 28.2 s.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ground.errors import ConfigError
from ground.registry import Registry
from mocks.vendors.settings import FrontSettings

MANUAL_FAILOVER_S = 47 * 60.0  # research: low-end systems need 47 minutes (manual) to switch to a standby
DEFAULT_TIME_SCALE = 0.01


@dataclass(frozen=True)
class ProfileSpec:
    overrides: dict[str, Any]
    front: FrontSettings | None = None
    notes: dict[str, Any] = field(default_factory=dict)


ProfileFactory = Callable[[float], ProfileSpec]
PROFILES: Registry[ProfileFactory] = Registry("reference vendor profile", field="profile")


def profile(name: str) -> Callable[[ProfileFactory], ProfileFactory]:
    """Register a behaviour where it is defined: ``@profile("steady")`` on its factory."""
    return PROFILES.register(name)


def get_profile(name: str, time_scale: float = DEFAULT_TIME_SCALE) -> ProfileSpec:
    factory = PROFILES.get(name)
    if not 0 < time_scale <= 1:
        raise ConfigError(
            "time scale must be in (0, 1]", field="time_scale", value=time_scale, fix="e.g. 0.01 (47 min → 28 s)"
        )
    spec = factory(time_scale)
    return ProfileSpec({"profile": name, **spec.overrides}, spec.front, spec.notes)


def truth(name: str) -> str:
    """The documented truth of a profile (its docstring)."""
    get_profile(name)
    return inspect.getdoc(PROFILES.get(name)) or ""


def is_ha_profile(name: str) -> bool:
    return get_profile(name).front is not None


@profile("steady")
def steady(time_scale: float) -> ProfileSpec:
    """The good vendor. 8 workers, a durable SQLite outbox, 60 msg/s per number, retry with backoff.

    Truth: zero acknowledged messages lost; under a WhatsApp throttle (130429/131056) or an outage shorter
    than its retry budget (40 attempts, backoff capped at 10 s: about 6 minutes) every message is delayed,
    none lost (the ledger holds every token exactly once, duplicates only after a crash); API latency
    is dominated by one SQLite insert (tens of ms at most on a laptop); reply time to keywords is one Graph
    round trip.
    """
    return ProfileSpec({"workers": 8, "durable_queue": True, "retry": {"max_attempts": 40, "max_s": 10.0}})


@profile("degrading")
def degrading(time_scale: float) -> ProfileSpec:
    """System A of the research: a bounded worker pool in front of an unbounded in-memory queue.

    2 workers, each on a fixed service schedule of one job per 50 ms slot (the downstream call every message
    pays; a job's Graph round trip overlaps the next slot, ``outbound.ServiceSchedule``), so capacity
    μ = 2 / 0.05 s = 40 messages/s exactly while a Graph round trip fits in a slot (`slot_overruns` at
    GET /_vendor/stats stays 0; a slower Graph only lowers μ). Truth: below 40 msg/s the delivery delay stays
    flat (at most one 50 ms slot plus a Graph round trip); at an offered rate λ above it the queue grows by
    (λ − μ) jobs/s and a message accepted t seconds into the overload waits about t·(λ − μ)/μ: at λ = 48/s
    (20% over) the delay climbs 0.2 s per second; at λ = 41/s it climbs 0.025 s per second, 7.5 s in 5
    minutes, the research's system A (1.2 s → 8.5 s by minute 5). Nothing is lost while the process lives;
    everything queued is lost if it dies.
    """
    return ProfileSpec({"workers": 2, "durable_queue": False, "service_ms": 50.0})


@profile("flaky-media")
def flaky_media(time_scale: float) -> ProfileSpec:
    """System C of the research: media uploads answer 503 after the 700th upload in a one-hour window.

    Truth: uploads 1..700 in any sliding 3600 s window succeed (201); every further upload gets HTTP 503 until
    the oldest accepted upload in the window is 3600 s old, then one more succeeds per upload aged out (a
    refused upload does not count). Text and template sends behave like `steady`.
    """
    return ProfileSpec({"media_fail_after": 700, "media_window_s": 3600.0})


@profile("lossy")
def lossy(time_scale: float) -> ProfileSpec:
    """Acknowledges every send (202), then drops some under queue pressure; no retry, no durable queue.

    Truth: one worker on a fixed schedule of one Graph call per 50 ms slot, so it forwards at most 20
    messages/s (a small system sold as "supports 100 online", market-figures.md #4); while 20 or more jobs wait
    in its in-memory queue (depth ≥ `loss_queue_threshold`), each newly accepted message is dropped with
    probability 0.1 (a seeded draw, made only under pressure); with fewer waiting nothing is dropped. A Graph
    error is not retried: that message fails (status `failed`). A kill loses the whole queue. Every acknowledged
    message the mock's ledger lacks is listed at GET /_vendor/stats, in "dropped_ids" or "failed_ids", unless it
    was queued when the process died: lost = dropped + failed (+ the queue at a kill), and with a healthy
    WhatsApp API failed = 0, so lost = dropped.
    """
    return ProfileSpec(
        {
            "workers": 1,
            "durable_queue": False,
            "service_ms": 50.0,
            "loss_fraction": 0.1,
            "loss_queue_threshold": 20,
            "retry": {"enabled": False},
        }
    )


@profile("fast-failover")
def fast_failover(time_scale: float) -> ProfileSpec:
    """High-end HA pair: automatic failover, durable shared queue.

    Front checks every 0.5 s (0.5 s timeout), switches after 3 consecutive failed checks (active checks
    only: proxied requests answer 502 until then, whatever the traffic). Truth: after the primary is killed
    the front serves from the standby after (threshold − 1) × interval = 1.0 s to threshold × interval =
    1.5 s (connection refused; where in that range depends on when the kill falls between two checks), at
    worst threshold × (interval + timeout) = 3 s (a hung primary): the research's "within 90 s" class;
    acknowledged messages are not lost (the standby claims the dead primary's outbox rows after their
    5 s lease), at most one per primary worker (8) is duplicated: a job each worker had sent but not yet
    marked done when it died.
    """
    front = FrontSettings(interval_s=0.5, timeout_s=0.5, failure_threshold=3, failover="automatic")
    return ProfileSpec({"durable_queue": True, "lease_s": 5.0}, front)


@profile("slow-failover")
def slow_failover(time_scale: float) -> ProfileSpec:
    """Low-end HA pair: manual failover after 47 minutes (scaled), in-memory queue.

    Truth: after the primary is killed the front answers 503 until the simulated operator switches to the
    standby, 47 min × time_scale after detection (28.2 s at the default 0.01), detection taking 3 × 2 s = 6 s
    (9 s for a hung primary);
    messages waiting in the primary's in-memory queue when it died are lost.
    """
    front = FrontSettings(
        interval_s=2.0,
        timeout_s=1.0,
        failure_threshold=3,
        failover="manual",
        manual_delay_s=MANUAL_FAILOVER_S * time_scale,
    )
    return ProfileSpec({"durable_queue": False, "workers": 4}, front, {"manual_failover_s": MANUAL_FAILOVER_S})


@profile("calibrated")
def calibrated(time_scale: float) -> ProfileSpec:
    """A known, seeded API latency distribution and error rate, and the vendor's own clock on every request.

    Truth: every /api/ request first waits at least a lognormal draw with mean 100 ms and standard deviation 60 ms
    (p50 85.7 ms, p95 213.5 ms, p99 311.5 ms; ``latency.quantile_ms``), then fails with HTTP 500
    (`injected_error`) with probability 0.02; both draws come from one generator seeded with 20260101. Sends are
    otherwise `steady` (no loss). The vendor times each request itself (``timing.py``: ``Server-Timing:
    app;dur=`` and GET /_vendor/timings, the last 50,000 requests, each with its draw as ``injected_ms``), so its
    realised service time, never below the draw, is the truth a harness's per-request latency is compared with:
    p50/p95/p99 within 5% or 2 ms (``timing_check``), and an error rate of 2% ± its interval. Override with
    ``--set api_latency.mean_ms=…``.
    """
    return ProfileSpec(
        {
            "api_latency": {"distribution": "lognormal", "mean_ms": 100.0, "stddev_ms": 60.0},
            "api_error_rate": 0.02,
            "seed": 20260101,
            "timings_capacity": 50_000,  # a whole measured run's requests and webhooks (~35 MB at most)
        }
    )


@profile("understaffed")
def understaffed(time_scale: float) -> ProfileSpec:
    """A contact centre with too few seats: 2 agents online at most, 2 conversations each, 4 s handle time.

    Routing (``desk.Desk``) is least-busy with a waiting queue; a third agent asking to come online gets 409
    `no_seat`. Each assignment holds its slot for an exponential handle time with mean 4 s (seeded), whatever the
    agent does, so the desk is an M/M/c queue with c = 2 × 2 = 4 and μ = 0.25/s: capacity 1 new conversation/s.
    Truth: Erlang C (``desk.mm_c_wait``): at λ new conversations/s below 1, an arriving conversation waits with
    probability C(4, 4λ) and P(wait > t) = C·e^{−(1 − λ)t}; at λ = 0.8/s P(wait) = 0.596, mean wait 2.98 s, 67.3%
    assigned within 3 s and 78.1% within 5 s (below market-figures.md #11's 80% within 5 s: it fails for the
    queue's sake); at λ ≥ 1/s the queue grows by (λ − 1) conversations a second without bound. Everything else
    (outbound, replies) behaves like `steady`.
    """
    return ProfileSpec({"assignment": "least-busy", "seats": 2, "agent_cap": 2, "handle_s": 4.0, "seed": 20261207})
