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
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.harness_health import HealthThresholds, assess
from ground.cores import usable_cores
from harness import __version__
from harness.health import read_health
from harness.recorder import read_requests
from harness.run.capacity import (
    CACHE_ENV,
    REFUSE_SHARE,
    WARN_SHARE,
    Calibration,
    CapacityCheck,
    ProbeResult,
    cache_dir,
    cache_path,
    check_capacity,
    load_cached,
    planned_peaks,
    save,
)
from harness.run.runner import RunRequest, execute

VENDOR_DIR = Path(__file__).resolve().parents[2] / "vendors"


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
    ``analysis.harness_health``), clean or why not, and the CPU (in cores) of every watched process together
    (``stack_cores``) and per health role (``role_cores``: harness, mock, candidate)."""
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
        seconds = max(1, cpu["at"].nunique())  # the mean over the step's sampled seconds, per role
        role_cores = {str(role): float(v) / 100.0 / seconds for role, v in cpu.groupby("role")["value"].sum().items()}
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
             "stack_cores": stack_cores, "role_cores": role_cores, "clean": not why, "why": "; ".join(why)}
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
    return judge_probe(probe, run_staircase(probe, root, seed=seed))


def run_staircase(probe: Probe, root: Path, *, seed: int = 0, workers: int = 0, mock_shards: int = 1) -> Path:
    """The probe's staircase as a real run (the mock's WhatsApp limits off); its results folder. ``workers``:
    local Locust worker processes under a master (0: one local runner); ``mock_shards``: the mock's processes
    (``bench/worker_scaling.py`` plays the same staircase across both)."""
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
        run_id=f"calibrate-{probe.name}" + (f"-w{workers}-s{mock_shards}" if workers or mock_shards > 1 else ""),
        show_progress=False,
        # The harness's ceiling, not WhatsApp's: the mock's throughput and pair limits are off for the probes.
        mock_settings={"limits": {"enabled": False}},
        over_capacity=True,  # the staircase is meant to pass the ceiling
        workers=workers,
        mock_shards=mock_shards,
    )
    return execute(request).run_dir


def judge_probe(probe: Probe, run_dir: Path, thresholds: HealthThresholds | None = None) -> ProbeResult:
    """Each step of a staircase run judged by ``thresholds`` (the analysis's harness-bound rules by default)."""
    requests = read_requests(run_dir).to_pandas()
    health = read_health(run_dir).to_pandas()
    start_at = _load_start(run_dir, requests)
    levels = [probe.start_rate + i * probe.step_rate for i in range(probe.steps)]
    steps = judge_steps(requests, health, start_at=start_at, levels=levels, step_s=probe.step_s, thresholds=thresholds)
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
            if found.capacity_per_s <= 0.0:
                progress(
                    f"  {probe.name}: not even the first step was clean, so this calibration holds no figure for it "
                    "(runs are not checked against it); if other work was running, calibrate again without"
                )
    calibration = Calibration(platform.node(), usable_cores(), __version__, time.time(), results)
    return calibration, save(calibration, environ)


__all__ = [
    "CACHE_ENV",
    "PROBES",
    "REFUSE_SHARE",
    "VENDOR_DIR",
    "WARN_SHARE",
    "Calibration",
    "CapacityCheck",
    "Probe",
    "ProbeResult",
    "cache_dir",
    "cache_path",
    "calibrate",
    "check_capacity",
    "judge_steps",
    "load_cached",
    "planned_peaks",
    "run_probe",
    "save",
    "summarise",
]
