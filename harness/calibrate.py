"""Know the machine before loading it: how much load this machine's harness can offer without measuring itself.

``scrmbench calibrate`` plays short open-model staircases (the ``capacity`` scenario, with the health sampler on)
and keeps, for each probe, the highest step at which

- the generator and the mock stayed unsaturated by the analysis's harness-bound rules (``analysis.harness_health``:
  generator loop lag p95 ≤ 20 ms, start lateness p95 ≤ 50 ms, no harness or mock process at ≥ 90% of a core, the
  machine below 95% busy or its run queue within its cores, mock loop lag p95 ≤ 20 ms) in all but 5% of the
  step's seconds,
- no slot was dropped, and at least 95% of the offered arrivals were answered ok.

Probes (each a real run on loopback, bounded by its staircase):

    sends     the cloud-api adapter against the mock alone: the harness's own ceiling for sends/s
    uploads   upload_media against the mock alone: uploads/s
    vendor    sends through the steady reference vendor, which relays them to the mock and takes its
              webhooks: sends/s of a whole trial stack, and the mock's webhooks/s at that point

It also keeps what one trial stack costs: the CPU (in cores) of every process the run started, at rest (the first
step) and per message/s above it. The bake-off plans parallel trials with it, and ``scrmbench run`` compares a
scenario's planned peak with it before the first request. The result is cached per host, CPU count and scrmbench
version in ``~/.cache/scrmbench/`` (``SCRMBENCH_CACHE_DIR`` overrides), and shown by ``scrmbench doctor``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.harness_health import HealthThresholds, assess
from harness import __version__

VENDOR_DIR = Path(__file__).resolve().parent.parent / "vendors"
CACHE_ENV = "SCRMBENCH_CACHE_DIR"
WARN_SHARE = 0.70  # a plan above this share of the calibrated capacity is warned about
REFUSE_SHARE = 1.00  # above this it is refused (exit 2) unless --over-capacity


@dataclass(frozen=True)
class Probe:
    name: str
    profile: str  # vendors/<profile>.yaml
    operation: str  # the staircase's one operation
    start_rate: float
    step_rate: float
    steps: int
    step_s: float = 5.0


PROBES: tuple[Probe, ...] = (
    Probe("sends", "cloud-api-mock", "send_template", start_rate=100, step_rate=300, steps=6),
    Probe("uploads", "cloud-api-mock", "upload_media", start_rate=10, step_rate=40, steps=5),
    Probe("vendor", "reference-steady", "send_text", start_rate=20, step_rate=60, steps=5),
)


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
        """Messages/s the harness can offer for ``operation`` (uploads have their own figure)."""
        if operation in ("upload_media", "send_media") and "uploads" in self.probes:
            return self.probes["uploads"].capacity_per_s
        if operation == "customer_message" and "vendor" in self.probes:
            return self.probes["vendor"].capacity_per_s
        return self.sends_per_s

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


def cache_path(environ: dict[str, str] | None = None) -> Path:
    host = "".join(c if c.isalnum() or c in "-_." else "_" for c in platform.node() or "host")
    return cache_dir(environ) / f"calibration-{host}-{os.cpu_count() or 1}cpu-{__version__}.json"


def load_cached(environ: dict[str, str] | None = None) -> Calibration | None:
    """This host's calibration for this CPU count and version; None when there is none (or it is unreadable)."""
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
    return path


# ---- judging one staircase (pure: frames in, figures out) -------------------------------------------------


def judge_steps(
    requests: pd.DataFrame,
    health: pd.DataFrame,
    *,
    start_at: float,
    levels: list[float],
    step_s: float,
    thresholds: HealthThresholds | None = None,
) -> list[dict[str, Any]]:
    """One row per step: offered, answered ok per second, dropped, harness-bound share (the analysis's own rules,
    ``analysis.harness_health``), clean or why not, and the CPU of every watched process."""
    scheduled = requests["scheduled_at"].astype("float64")
    rows = []
    for index, level in enumerate(levels):
        lo, hi = start_at + index * step_s, start_at + (index + 1) * step_s
        in_step = requests[(scheduled >= lo) & (scheduled < hi)]
        ok = int((in_step["outcome"] == "ok").sum())
        dropped = int((in_step["outcome"] == "dropped").sum())
        # The first second of a step still carries the step before's tail: judged from the next whole second.
        window = health[(health["at"] >= math.floor(lo) + 1) & (health["at"] < hi)]
        judged = assess(window, t0=math.floor(lo) + 1, end=hi, requests=in_step, thresholds=thresholds)
        share = judged.share or 0.0
        cpu = window[window["metric"] == "cpu_pct"]
        stack_cores = float(cpu.groupby("at")["value"].sum().mean() / 100.0) if not cpu.empty else 0.0
        why = []
        if share > judged.thresholds.bound_share:
            fired = sorted(rule.replace("_", " ") for rule, mask in judged.rules.items() if mask.any())
            why.append(f"harness-bound {100 * share:.0f}% ({', '.join(fired)})")
        if dropped:
            why.append(f"{dropped} dropped slots")
        if ok < 0.95 * level * step_s:
            why.append(f"answered {ok / step_s:.0f}/s of {level:g}/s")
        rows.append(
            {"level": level, "ok_per_s": ok / step_s, "dropped": dropped, "bound_share": share,
             "stack_cores": stack_cores, "clean": not why, "why": "; ".join(why)}
        )  # fmt: skip
    return rows


def summarise(name: str, steps: list[dict[str, Any]], webhooks_per_s: list[float] | None = None) -> ProbeResult:
    """The highest clean step before the first unclean one, and the stack's CPU model over the clean steps."""
    capacity, limited_by, clean = 0.0, "not reached: every step was clean", []
    for index, step in enumerate(steps):
        if not step["clean"]:
            limited_by = f"{step['level']:g}/s: {step['why']}"
            break
        capacity = step["level"]
        clean.append(index)
    base = steps[0]["stack_cores"] if steps else 0.0
    slope = 0.0
    if len(clean) >= 2:
        first, last = steps[clean[0]], steps[clean[-1]]
        slope = max(0.0, (last["stack_cores"] - first["stack_cores"]) / max(1e-9, last["level"] - first["level"]))
        base = max(0.0, first["stack_cores"] - slope * first["level"])
    hooks = None
    if webhooks_per_s and clean:
        hooks = webhooks_per_s[clean[-1]]
    return ProbeResult(name, capacity, limited_by, steps, base, slope, hooks)


# ---- running the probes ------------------------------------------------------------------------------------


def run_probe(probe: Probe, root: Path, *, seed: int = 0) -> ProbeResult:
    """One staircase as a real ``scrmbench run`` of the capacity scenario; judged from its records."""
    from harness.health import read_health
    from harness.recorder import read_requests
    from harness.runner import RunRequest, execute

    overrides = {
        "start_rate": probe.start_rate, "step_rate": probe.step_rate, "step_s": probe.step_s, "steps": probe.steps,
        "operation": probe.operation, "practical_target_rps": probe.start_rate, "drain_s": 1,
        "pool_size": int(min(2000, 4 * (probe.start_rate + probe.step_rate * probe.steps))),
    }  # fmt: skip
    request = RunRequest(
        vendor=VENDOR_DIR / f"{probe.profile}.yaml",
        scenario="capacity",
        overrides=overrides,
        seed=seed,
        results_root=root,
        run_id=f"calibrate-{probe.name}",
        show_progress=False,
        # The harness's ceiling, not WhatsApp's: the mock's throughput and pair limits are off for the probes.
        mock_settings={"limits": {"enabled": False}},
        over_capacity=True,  # the staircase is meant to pass the ceiling
    )
    result = execute(request)
    run_dir = result.run_dir
    requests = read_requests(run_dir).to_pandas()
    health = read_health(run_dir).to_pandas()
    start_at = _load_start(run_dir, requests)
    levels = [probe.start_rate + i * probe.step_rate for i in range(probe.steps)]
    steps = judge_steps(requests, health, start_at=start_at, levels=levels, step_s=probe.step_s)
    return summarise(probe.name, steps, _webhooks_per_step(run_dir, start_at, len(levels), probe.step_s))


def _load_start(run_dir: Path, requests: pd.DataFrame) -> float:
    try:
        return float(json.loads((run_dir / "load-start-p0.json").read_text())["start_at"])
    except (OSError, ValueError, KeyError):
        return float(requests["scheduled_at"].min())


def _webhooks_per_step(run_dir: Path, start_at: float, steps: int, step_s: float) -> list[float] | None:
    path = run_dir / "webhooks.parquet"
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    sent = pq.read_table(path, columns=["sent_at"]).column("sent_at").to_pandas()
    return [float(((sent >= start_at + i * step_s) & (sent < start_at + (i + 1) * step_s)).sum()) / step_s
            for i in range(steps)]  # fmt: skip


def calibrate(
    *,
    probes: tuple[Probe, ...] = PROBES,
    progress: Callable[[str], None] = lambda _m: None,
    keep: Path | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[Calibration, Path]:
    """Run every probe, one after another (never two loads at once), and cache the result."""
    results: dict[str, ProbeResult] = {}
    with tempfile.TemporaryDirectory(prefix="scrmbench-calibrate-") as scratch:
        root = keep or Path(scratch)
        for probe in probes:
            progress(f"calibrating {probe.name}: {probe.operation} through {probe.profile}, a staircase to "
                     f"{probe.start_rate + probe.step_rate * (probe.steps - 1):g}/s")  # fmt: skip
            results[probe.name] = run_probe(probe, root)
            found = results[probe.name]
            progress(f"  {probe.name}: {found.capacity_per_s:g}/s clean ({found.limited_by})")
    calibration = Calibration(platform.node(), os.cpu_count() or 1, __version__, time.time(), results)
    return calibration, save(calibration, environ)


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
