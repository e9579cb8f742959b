"""End a plain Locust run (``deploy/``: docker compose, Kubernetes) the way ``scrmbench run`` ends one: export the
mock's ledger and webhook attempts into the run folder and mark the manifest complete.

    python -m harness.run.plain_finish results/RUN_ID --mock-url http://127.0.0.1:8900

Run it once the master has exited. The manifest stays partial when the export fails, the run left phases of its
scenario out (``harness.loadgen.plain_run``) or a worker went missing (the master's ``workers.json``: a killed
worker container is named, with the window its share of the schedule is absent from, as ``scrmbench run`` does):
only the ledger export's "not run" note is replaced; the others (e.g. a fault schedule that was not injected) stay
in the manifest. Exit 0 when the run is complete, 4 when not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from ground.errors import EXIT_OK, EXIT_PARTIAL
from harness.results import complete_manifest
from harness.run.shards import missing_worker_notes, missing_workers
from harness.run.steps import export_mock_records_from

LEDGER_NOTE = "not run: the ledger export"
PHASES_NOTE = "not run: phase(s)"


def finish(run_dir: Path, mock_url: str) -> tuple[bool, list[str]]:
    """Export the mock's records into ``run_dir``; returns whether the manifest is now complete, and why not."""
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    export_problems = export_mock_records_from(mock_url.rstrip("/"), run_dir)
    notes = [note for note in manifest.get("notes", []) if not note.startswith(LEDGER_NOTE)]
    if export_problems:
        notes += export_problems
    else:
        notes.append(f"ledger.parquet and webhooks.parquet exported from {mock_url} by harness.run.plain_finish")
    ended = time.time()
    missing = missing_workers(run_dir, ended)
    gone = missing_worker_notes(missing)
    notes += [note for note in gone if note not in notes]
    problems = export_problems + [note for note in notes if note.startswith(PHASES_NOTE)] + gone
    complete_manifest(run_dir, ended_at=ended, complete=not problems, notes=notes, missing_workers=missing)
    return not problems, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="the run folder (results/RUN_ID)")
    parser.add_argument("--mock-url", required=True, help="the mock WhatsApp API the run used")
    args = parser.parse_args(argv)
    complete, problems = finish(args.run_dir, args.mock_url)
    for problem in problems:
        print(f"partial: {problem}", file=sys.stderr)
    return EXIT_OK if complete else EXIT_PARTIAL


if __name__ == "__main__":
    sys.exit(main())
