"""Remote workers' request records: after each phase, every worker that reported must have its shards here.

A worker on another machine writes its Parquet shards (``requests/worker-N-pP-*.parquet``) to *its own* disk,
at the path the master forwarded. Unless that folder is shared, they never reach this run's folder, and scoring
right away would judge the run on a fraction of its load while calling it complete. The master's
``workers.json`` names every worker that joined the phase; a worker with no shard of that phase in
``requests/`` is reported, the run is partial, and the fix says where the records are and how to finish.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ground.records import RunManifest
from harness.recorder import safe_name
from harness.results import write_manifest

REQUESTS_DIR = "requests"
WORKERS_FILE = "workers.json"  # written by the master (harness.loadgen.hooks); not imported: that pulls in Locust


def reported_workers(run_dir: Path) -> list[str]:
    """Worker names (``worker-N``) from the master's ``workers.json``; empty when there is none."""
    try:
        workers = json.loads((run_dir / WORKERS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    return sorted(workers) if isinstance(workers, dict) else []


def missing_workers(run_dir: Path, ended_at: float) -> list[dict[str, Any]]:
    """Workers the master saw go missing (``workers.json``'s ``missing_since``): one entry each, with the window
    from which its share of the schedule is absent (``scrmbench run`` and a plain run's ``plain_finish``)."""
    try:
        workers = json.loads((run_dir / WORKERS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    if not isinstance(workers, dict):
        return []
    return [
        {"worker": name, "missing_from": info["missing_since"], "missing_to": ended_at}
        for name, info in sorted(workers.items())
        if isinstance(info, dict) and info.get("missing_since")
    ]


def missing_worker_notes(missing: list[dict[str, Any]]) -> list[str]:
    return [
        f"{m['worker']} went missing at {m['missing_from']:.0f}: its share of the schedule from then "
        f"to {m['missing_to']:.0f} is absent"
        for m in missing
    ]


def missing_shards(run_dir: Path, phase_index: int, phase_name: str) -> list[dict[str, Any]]:
    """One entry per worker that reported in phase ``phase_index`` but has no request shard of it here."""
    folder = run_dir / REQUESTS_DIR
    missing = []
    for worker in reported_workers(run_dir):
        prefix = safe_name(f"{worker}-p{phase_index}")
        if not any(folder.glob(f"{prefix}-*.parquet")):
            missing.append({"worker": worker, "phase": phase_name, "expected": f"{REQUESTS_DIR}/{prefix}-*.parquet"})
    return missing


def missing_shard_notes(run_dir: Path, missing: list[dict[str, Any]]) -> list[str]:
    """The manifest's notes: whose records are missing, and the fix."""
    if not missing:
        return []
    who = ", ".join(f"{m['worker']} (phase {m['phase']})" for m in missing)
    return [
        f"request records missing from {who}: the run is partial and its scores leave that load out. "
        f"Fix: copy the shards ({', '.join(sorted({m['expected'] for m in missing}))}) from each worker machine's "
        f"copy of this results folder into {run_dir / REQUESTS_DIR}/, then re-run `scrmbench score {run_dir}`"
    ]


def recover_shards(run_dir: Path) -> list[str]:
    """Before scoring: when every shard the manifest said was missing has since been copied in, and nothing else
    kept the run partial (``partial_only_for_shards``), mark the run complete again. Returns the workers whose
    records were recovered (empty when nothing changed)."""
    path = run_dir / "manifest.json"
    try:
        manifest = RunManifest.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return []  # scoring reports an unreadable manifest itself
    extra = manifest.model_extra or {}
    missing: list[dict[str, Any]] = list(extra.get("missing_shards") or [])
    if not missing or not extra.get("partial_only_for_shards"):
        return []
    if not all(any(run_dir.glob(str(m["expected"]))) for m in missing):
        return []
    workers = sorted({str(m["worker"]) for m in missing})
    notes = [n for n in manifest.notes if not n.startswith("request records missing from")]
    notes.append(f"request records of {', '.join(workers)} copied into requests/ after the run; complete again")
    update = {"complete": True, "notes": notes, "missing_shards": [], "partial_only_for_shards": False}
    write_manifest(run_dir, manifest.model_copy(update=update))
    return workers
