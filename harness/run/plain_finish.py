"""End a plain Locust run (``deploy/``: docker compose, Kubernetes) the way ``scrmbench run`` ends one: export the
mock's ledger and webhook attempts into the run folder and mark the manifest complete.

    python -m harness.run.plain_finish results/RUN_ID --mock-url http://127.0.0.1:8900

Run it once the master has exited. The manifest stays partial when the export fails, the run left phases of its
scenario out (``harness.loadgen.plain_run``) or a worker went missing (the master's ``workers.json``: a killed
worker container is named, with the window its share of the schedule is absent from, as ``scrmbench run`` does):
only the ledger export's "not run" note is replaced; the others (e.g. a fault schedule that was not injected) stay
in the manifest. Exit 0 when the run is complete, 4 when not; 2 on bad input (no such run folder, no
``manifest.json`` in it, a ``--mock-url`` that is not a loopback URL: the mock's admin token goes to loopback
only), 3 when the folder's ``manifest.json`` is damaged. Errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson
from pydantic import ValidationError

from ground.errors import EXIT_OK, EXIT_PARTIAL, ConfigError, HarnessError, ScrmbenchError, TargetRefused
from ground.net import check_target
from ground.paths import run_folder
from ground.records import RunManifest
from ground.secrets import redact
from harness.results import complete_manifest, disk_guard
from harness.run.shards import missing_worker_notes, missing_workers
from harness.run.steps import export_mock_records_from

LEDGER_NOTE = "not run: the ledger export"
PHASES_NOTE = "not run: phase(s)"


def read_run_manifest(run_dir: Path) -> dict[str, object]:
    """The run folder's ``manifest.json`` as written by the Locust master; a ``ConfigError`` when the folder or the
    file is missing (the wrong path), a ``HarnessError`` when the file is damaged."""
    path = run_folder(run_dir, field="run_dir") / "manifest.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "the folder has no manifest.json, so it is not a run's results folder",
            field="run_dir",
            value=str(run_dir),
            fix="give the folder the Locust master wrote its records to (its --results-dir, by default results/RUN_ID)",
        ) from None
    except OSError as exc:
        raise HarnessError(
            f"{path}: cannot be read ({exc.strerror or type(exc).__name__}). Fix: check its permissions and the disk"
        ) from None
    try:
        data = orjson.loads(raw)
        RunManifest.model_validate(data)  # what complete_manifest will rewrite: it must be a manifest
    except (orjson.JSONDecodeError, ValidationError) as exc:
        why = "not valid JSON" if isinstance(exc, orjson.JSONDecodeError) else "not a run manifest"
        raise HarnessError(
            f"{path}: {why} ({str(exc).splitlines()[0]}), so the run cannot be finished. Fix: score the records as "
            f"they are with `scrmbench score {run_dir}` (the run counts as partial), or run it again"
        ) from None
    return dict(data)


def check_mock_url(mock_url: str) -> str:
    """``mock_url`` when it is an absolute loopback URL: the export sends the mock's admin token there."""
    try:
        check_target(mock_url)  # loopback only: no profile, so no allowlist
    except TargetRefused:
        raise TargetRefused(
            "the export sends the mock's admin token, so the mock must be on loopback (an absolute URL with a "
            "loopback host)",
            field="--mock-url",
            value=mock_url,
            fix="give the mock's loopback address, e.g. http://127.0.0.1:8900 (Kubernetes: kubectl port-forward "
            "svc/mock 8900:8900 first)",
        ) from None
    return mock_url.rstrip("/")


def finish(run_dir: Path, mock_url: str) -> tuple[bool, list[str]]:
    """Export the mock's records into ``run_dir``; returns whether the manifest is now complete, and why not."""
    base_url = check_mock_url(mock_url)
    manifest = read_run_manifest(run_dir)
    export_problems = export_mock_records_from(base_url, run_dir)
    notes = [note for note in _notes(manifest) if not note.startswith(LEDGER_NOTE)]
    if export_problems:
        notes += export_problems
    else:
        notes.append(f"ledger.parquet and webhooks.parquet exported from {mock_url} by harness.run.plain_finish")
    ended = time.time()
    missing = missing_workers(run_dir, ended)
    gone = missing_worker_notes(missing)
    notes += [note for note in gone if note not in notes]
    problems = export_problems + [note for note in notes if note.startswith(PHASES_NOTE)] + gone
    try:
        complete_manifest(run_dir, ended_at=ended, complete=not problems, notes=notes, missing_workers=missing)
    except OSError as exc:  # a full disk or a folder made read-only since: the harness's failure, named (exit 3)
        raise disk_guard(run_dir, exc) from exc
    return not problems, problems


def _notes(manifest: dict[str, object]) -> list[str]:
    notes = manifest.get("notes")
    return [str(note) for note in notes] if isinstance(notes, list) else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="the run folder (results/RUN_ID)")
    parser.add_argument("--mock-url", required=True, help="the mock WhatsApp API the run used (loopback)")
    args = parser.parse_args(argv)
    try:
        complete, problems = finish(args.run_dir, args.mock_url)
    except ScrmbenchError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    for problem in problems:
        print(f"partial: {problem}", file=sys.stderr)
    return EXIT_OK if complete else EXIT_PARTIAL


if __name__ == "__main__":
    sys.exit(main())
