"""This machine's calibration (``scrmbench calibrate``, ``harness.run.calibrate``) and the check a run makes with it.

The calibration is cached per host, usable cores, scrmbench version and a digest of the code it measured (the
``ground``, ``plan``, ``harness`` and ``mocks`` sources: a change to the load engine or the mock between two
releases makes a new calibration, not a stale one) in ``~/.cache/scrmbench/`` (``SCRMBENCH_CACHE_DIR``
overrides); saving one removes the host's calibrations of other code. Before the first request ``scrmbench run``
compares the scenario's planned peak (times the trials of a bake-off run at once) with it: a warning above 70%, a
refusal (exit 2) above 100% unless ``--over-capacity``. Kept apart from the calibration's probes, which drive the
runner: the runner reads this module, and the probes import the runner.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ground.cores import usable_cores
from harness import __version__

CACHE_ENV = "SCRMBENCH_CACHE_DIR"
WARN_SHARE = 0.70  # a plan above this share of the calibrated capacity is warned about
REFUSE_SHARE = 1.00  # above this it is refused (exit 2) unless --over-capacity


@dataclass
class ProbeResult:
    name: str
    capacity_per_s: float  # highest clean step (0: not even the first)
    limited_by: str  # what ended the staircase ("not reached": every step was clean)
    steps: list[dict[str, Any]] = field(default_factory=list)
    stack_base_cores: float = 0.0  # CPU of every process of the run at the first step
    cores_per_rps: float = 0.0  # CPU added per message/s, fitted over the clean steps
    webhooks_per_s: float | None = None  # the mock's webhook POSTs/s at the capacity step (vendor probe)


@dataclass
class Calibration:
    host: str
    cores: int
    version: str
    measured_at: float
    probes: dict[str, ProbeResult]

    @property
    def sends_per_s(self) -> float:
        return self.probes["sends"].capacity_per_s if "sends" in self.probes else 0.0

    def capacity_for(self, operation: str) -> float:
        """Messages/s the harness can offer for ``operation`` (uploads have their own figure; 0: not measured)."""
        probe = self._probe_for(operation)
        return probe.capacity_per_s if probe is not None else 0.0

    def limited_by(self, operation: str) -> str:
        """What ended the staircase of the probe ``capacity_for(operation)`` reads."""
        probe = self._probe_for(operation)
        return probe.limited_by if probe is not None else "no probe"

    def _probe_for(self, operation: str) -> ProbeResult | None:
        if operation in ("upload_media", "send_media") and "uploads" in self.probes:
            return self.probes["uploads"]
        if operation == "customer_message" and "vendor" in self.probes:
            return self.probes["vendor"]
        return self.probes.get("sends")

    def trial_cores(self, peak_per_s: float) -> float:
        """The CPU (cores) one trial stack is expected to use at ``peak_per_s``: at rest plus per message/s."""
        probe = self.probes.get("vendor") or self.probes.get("sends")
        if probe is None:
            return 1.0
        return probe.stack_base_cores + probe.cores_per_rps * peak_per_s

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "probes": {k: asdict(v) for k, v in self.probes.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        probes = {k: ProbeResult(**v) for k, v in data["probes"].items()}
        return cls(data["host"], int(data["cores"]), data["version"], float(data["measured_at"]), probes)


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scrmbench"


MEASURED_PACKAGES = ("ground", "plan", "harness", "mocks")  # the code whose cost a calibration measures


@functools.cache
def code_digest(root: Path | None = None) -> str:
    """12 hex digits over the measured packages' Python sources (names and bytes), in path order."""
    base = root or Path(__file__).resolve().parents[2]
    digest = hashlib.blake2b(digest_size=6)
    for package in MEASURED_PACKAGES:
        for path in sorted((base / package).rglob("*.py")):
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _host_prefix() -> str:
    host = "".join(c if c.isalnum() or c in "-_." else "_" for c in platform.node() or "host")
    return f"calibration-{host}-{usable_cores()}cpu-"


def cache_path(environ: dict[str, str] | None = None) -> Path:
    return cache_dir(environ) / f"{_host_prefix()}{__version__}-{code_digest()}.json"


def load_cached(environ: dict[str, str] | None = None) -> Calibration | None:
    """This host's calibration for these cores, version and code; None when there is none (or it is unreadable)."""
    path = cache_path(environ)
    try:
        return Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(calibration: Calibration, environ: dict[str, str] | None = None) -> Path:
    path = cache_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(calibration.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
    for stale in path.parent.glob(f"{_host_prefix()}*.json"):  # this host's calibrations of other code
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


# ---- using it ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityCheck:
    share: float  # planned peak ÷ calibrated capacity (per operation, added up)
    verdict: str  # ok | warn | refuse | uncalibrated
    message: str
    workers_needed: int = 0


def planned_peaks(plan: Any, *, resolution_s: float = 0.5) -> dict[str, float]:
    """Peak arrivals/s of each operation of a ``LoadPlan`` (shape peak × the operation's share of the mix)."""
    peak = 0.0
    for phase in plan.phases:
        duration = float(phase.profile.duration_s)
        ticks = max(1, int(duration / resolution_s))
        peak = max(peak, *(float(phase.profile.rate_at(i * resolution_s)) for i in range(ticks + 1)))
    weights = {task.operation: float(task.weight) for task in plan.mix}
    total = sum(weights.values()) or 1.0
    return {operation: peak * weight / total for operation, weight in weights.items()}


def check_capacity(
    plan: Any, calibration: Calibration | None, *, parallel_trials: int = 1, remote_workers: int = 0
) -> CapacityCheck:
    """Compare the plan's peak (times the trials run at once) with the calibration (see module docstring)."""
    if calibration is None:
        return CapacityCheck(0.0, "uncalibrated", "this machine is not calibrated: run `scrmbench calibrate` once")
    if plan.load_model != "open":
        return CapacityCheck(0.0, "ok", "closed model: the load follows the vendor, nothing to check")
    peaks = planned_peaks(plan)
    unmeasured = {op: calibration.limited_by(op) for op in peaks if calibration.capacity_for(op) <= 0.0}
    if unmeasured:
        # Not even the staircase's first step was clean (most often other work on the machine at the time): the
        # calibration holds no figure for these operations, so there is nothing to compare with, not a capacity of
        # zero (which would refuse every plan and advise billions of workers).
        said = "; ".join(f"{op} ({why})" for op, why in unmeasured.items())
        return CapacityCheck(
            0.0,
            "uncalibrated",
            f"this machine's calibration has no clean step for {said}: run `scrmbench calibrate` again with nothing "
            "else running",
        )
    processes = 1 + max(0, remote_workers)  # other machines add capacity; local workers share these cores
    share = sum(
        rate * parallel_trials / max(1e-9, calibration.capacity_for(op) * processes) for op, rate in peaks.items()
    )
    what = ", ".join(f"{rate:g}/s {op}" for op, rate in peaks.items())
    trials = f" × {parallel_trials} trials at once" if parallel_trials > 1 else ""
    needed = max(1, math.ceil(share * processes / WARN_SHARE))
    message = (
        f"the plan peaks at {what}{trials}: {100 * share:.0f}% of what this machine's harness offers unsaturated "
        f"(calibrated {calibration.sends_per_s:g} sends/s on {calibration.cores} cores)"
    )
    if share > REFUSE_SHARE:
        fix = (
            f"; it needs about {needed} machines' worth of load generation (--remote-workers {needed - 1}, README: "
            "Distributed runs), fewer trials at once, or a bigger machine; --over-capacity runs it anyway, marked"
        )
        return CapacityCheck(share, "refuse", message + fix, needed)
    if share > WARN_SHARE:
        return CapacityCheck(share, "warn", message + ": figures near the ceiling may be the harness's own", needed)
    return CapacityCheck(share, "ok", message)
