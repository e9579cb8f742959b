"""Scoring a big run vs just reading its Parquet files with pyarrow: time and peak memory ratios.

    .venv/bin/python bench/analysis_scale.py [--rows 5000000] [--quick] [--run-dir DIR]

Writes a synthetic run (analysis/synthetic.py) of ``--rows`` request records and about as many ledger rows to a
temporary folder, then, each in a fresh child process so neither inherits the other's memory:

- baseline: ``pyarrow.parquet.read_table`` of every request shard, the ledger and the webhook attempts;
- scoring:  ``load_run`` (the columns the analysis reads, as ``scrmbench score`` does) + ``build_summary``
  with the ``standard`` SLA + writing summary.json.

Read and score alternate for ``--rounds`` rounds and the fastest of each counts (the machine is shared and
noisy). Memory is each child's peak RSS above its RSS after imports (both children import the same modules), so the
ratio compares the work, not the interpreter; the scoring child's whole peak RSS is printed too, against the
8 GB bound a 50-million-row run (``--rows 50000000``) must stay under. Targets (issue 20): time ≤ 2×, memory
≤ 1.5×. The last line ends with the time ratio.

``--run-dir`` writes the synthetic run there (or reuses the one already there with as many rows) instead of a
temporary folder, so a big run is written once and scored in a later, shorter command.

The scoring includes every section ``scrmbench score`` writes (per-number figures and cost included). Below 50M
rows the bench also prints the whole peak a 50-million-request run would reach at the measured bytes per row. Last
measured (2026-12-07, 2-core 24 GB machine shared with other agents, ``--rows 5000000 --rounds 3``): score 6.7 s
(rounds 6.8, 7.0, 6.7) against a 4.4 s read (4.8, 4.4, 4.7), time ratio 1.52, and in a second run 6.8 s against
4.7 s, 1.46 (before the time pass: 8.2-8.3 s against 3.9-4.3 s, 1.89-2.11; the session before: 2.7), memory ratio
0.90, 2.29-2.30 GB whole peak (227-228 bytes a scored row);
``--rows 10000000 --rounds 1``: 20.8 s against 8.9 s, 2.33, memory ratio 0.79, 3.79 GB (194 bytes a row, scored in
order past 12M records); 2026-12-08, with loading row group by row group: 19.4 s against 9.4 s, 2.07, memory ratio
0.76, 3.65 GB (187 bytes a row; main's code just before in the same conditions 3.85 GB, 197), and at 5M 6.6 s
against 4.9 s, 1.36, 0.89, 2.27 GB; so about 17.6 GB projected for ``--rows 50000000``: not met, and not scored at
50M: do not
score 50M on a machine that cannot spare that; see docs/summary-schema.md "How the figures are computed on a big
run").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import psutil
import pyarrow.parquet as pq
import orjson
from analysis.load import ANALYSIS_COLUMNS, load_run
from analysis.sla import load_preset
from analysis.summary import build_summary

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

folder = Path(sys.argv[2])
base = psutil.Process().memory_info().rss / 2**20
start = time.perf_counter()
if sys.argv[1] == "read":
    tables = [pq.read_table(p) for p in sorted((folder / "requests").glob("*.parquet"))]
    tables += [pq.read_table(folder / "ledger.parquet"), pq.read_table(folder / "webhooks.parquet")]
    rows = sum(t.num_rows for t in tables)
else:
    run = load_run(folder, columns=ANALYSIS_COLUMNS)
    summary = build_summary(run, sla=load_preset("standard"))
    (folder / "summary.json").write_bytes(orjson.dumps(summary))
    rows = len(run.requests) + len(run.ledger)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb(), "base_mb": base, "rows": rows}))
"""


def child(mode: str, folder: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder)], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 rows instead")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved read/score rounds; the fastest counts")
    parser.add_argument("--run-dir", type=Path, help="write (or reuse) the synthetic run here, not in a temp folder")
    args = parser.parse_args()
    rows = 200_000 if args.quick else args.rows
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    if args.run_dir is not None:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        measure(prepare(args.run_dir / f"run-{rows}", rows), args.rounds, rows)
        return
    with tempfile.TemporaryDirectory(prefix="scrmbench-scale-") as tmp:
        measure(prepare(Path(tmp) / "big-run", rows), args.rounds, rows)


def prepare(folder: Path, rows: int) -> Path:
    """The synthetic run of ``rows`` request records in ``folder``, written unless it is already there."""
    from analysis.synthetic import write_synthetic_run

    if (folder / "manifest.json").is_file():
        print(f"reusing the synthetic run in {folder}")
        return folder
    rate = 1000.0
    started = time.perf_counter()
    built = write_synthetic_run(
        folder,
        duration_s=rows / rate,
        rate=rate,
        fault_at_s=rows / rate / 2,
        fault_s=30.0,
        lost=50,
        duplicated=20,
        inbound=10_000,
        shards=max(4, rows // 1_250_000),
        chunk_rows=500_000,
    )
    print(f"wrote {built.requests:,} request records in {time.perf_counter() - started:.1f} s")
    return folder


BIG_RUN = 50_000_000  # requests the 8 GB bound is for (issue 20)


def measure(folder: Path, rounds: int, requests: int) -> None:
    # Interleaved rounds on a shared, noisy machine: the fastest round of each is the one least disturbed.
    reads, scores = [], []
    for _ in range(rounds):
        reads.append(child("read", folder))
        scores.append(child("score", folder))
    read = min(reads, key=lambda r: r["seconds"])
    score = min(scores, key=lambda r: r["seconds"])
    read_mb = min(r["peak_mb"] - r["base_mb"] for r in reads)
    score_mb = max(r["peak_mb"] - r["base_mb"] for r in scores)  # memory: the worst round, to be safe
    print(
        "rounds (s): read "
        + ", ".join(f"{r['seconds']:.1f}" for r in reads)
        + "; score "
        + ", ".join(f"{r['seconds']:.1f}" for r in scores)
    )
    print(f"read with pyarrow: {read['seconds']:.2f} s, {read_mb:.0f} MB above imports")
    print(f"score:             {score['seconds']:.2f} s, {score_mb:.0f} MB above imports")
    memory_ratio = score_mb / max(1.0, read_mb)
    time_ratio = score["seconds"] / read["seconds"]
    peak_gb = max(r["peak_mb"] for r in scores) / 1024.0
    per_row = score_mb * 2**20 / max(1, score["rows"])
    print(f"scoring's whole peak RSS: {peak_gb:.2f} GB ({per_row:.0f} bytes per scored row above imports; bound 8 GB)")
    if requests < BIG_RUN:  # what the bound's run would take if memory kept growing with the rows as it does here
        base_gb = min(r["base_mb"] for r in scores) / 1024.0
        projected = base_gb + score_mb / 1024.0 * BIG_RUN / requests
        print(f"projected whole peak for --rows {BIG_RUN}: about {projected:.1f} GB at that many bytes a row (bound 8)")
    print(f"memory ratio (target <= 1.5): {memory_ratio:.2f}")
    print(f"time ratio (target <= 2): {time_ratio:.2f}")


if __name__ == "__main__":
    main()
