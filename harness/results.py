"""The run folder and its manifest: a safe ``results_root/run_id`` and an atomic, secret-scrubbed manifest.json."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ground.errors import ConfigError, HarnessError
from ground.records import RunManifest, is_safe_run_id
from ground.secrets import REGISTRY, SecretRegistry
from harness.recorder import is_disk_full


def run_directory(results_root: Path, run_id: str, *, create: bool = True) -> Path:
    """``results_root/run_id``, refusing any id that could name a path outside ``results_root``."""
    if not is_safe_run_id(run_id):
        raise ConfigError(
            "a run id must be a plain folder name",
            field="run_id",
            value=run_id,
            fix="use letters, digits, '.', '_' and '-' only, starting with a letter or digit, no '..'",
        )
    root = results_root.resolve()
    path = (root / run_id).resolve()
    if path.parent != root:  # a symlink planted in results/ must not redirect the run elsewhere either
        raise ConfigError("the run folder resolves outside the results folder", field="run_id", value=run_id)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json_atomically(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(temporary, path)


def write_manifest(run_dir: Path, manifest: Any, *, registry: SecretRegistry = REGISTRY) -> Path:
    """Write ``manifest.json`` (a ``RunManifest``) with every known secret scrubbed; atomic."""
    path = run_dir / "manifest.json"
    _write_json_atomically(path, registry.redact_data(manifest.model_dump(mode="json")))
    return path


def complete_manifest(
    run_dir: Path, *, ended_at: float, complete: bool = True, registry: SecretRegistry = REGISTRY, **updates: Any
) -> Any:
    """Mark the run finished: set ``ended_at``, ``complete`` and any other fields; returns the new manifest."""
    path = run_dir / "manifest.json"
    manifest = RunManifest.model_validate({**orjson.loads(path.read_bytes()), **updates})
    manifest = manifest.model_copy(update={"ended_at": ended_at, "complete": complete})
    write_manifest(run_dir, manifest, registry=registry)
    return manifest


def disk_full_error(run_dir: Path) -> HarnessError:
    return HarnessError(
        f"disk full while writing results to {run_dir}; the run was stopped and what was written so far stays "
        f"readable there (the manifest says incomplete; `scrmbench score {run_dir}` scores it as partial). "
        "Fix: free space on that disk (or pass --out with a folder on another disk) and run again"
    )


def disk_guard(run_dir: Path, exc: OSError) -> HarnessError:
    if is_disk_full(exc):
        return disk_full_error(run_dir)
    return HarnessError(f"could not write results to {run_dir}: {exc}")
