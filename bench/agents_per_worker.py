"""How many simulated agents one worker carries before it saturates (issue 17, "Bounds").

Run: ``.venv/bin/python bench/agents_per_worker.py [--seconds 5] [--poll 1] [--start 25] [--max 1600]``.

One mock and one reference vendor (`steady`) serve every round. For N = start, 2·start, … up to ``--max``, one
process (one core, like a Locust worker) runs N agents polling their inboxes every ``--poll`` seconds
(``bench/_agents_probe.py agents``: the contact-center scenario's own agent code), then, back to back, N plain
Locust FastHttpUsers making the same GET at the same pacing (``plain``). A side is unsaturated at N while it
makes at least 95% of the reads it was asked for and its loop lag p95 stays under 50 ms. Printed: each step, the
most agents one worker simulates unsaturated, the most plain users, and last their ratio (goal ≥ 0.7). The
agents here only poll (no customers write in), so the figure is the ceiling of presence and inbox reads; replies
add one request per conversation. Absolute figures vary with the machine; the ratio is the result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen_overhead import start_mock
from mocks.vendors.launch import launch_reference

ROOT = Path(__file__).resolve().parent.parent
KEEP_PACE = 0.95
MAX_LAG_MS = 50.0


def probe(side: str, base_url: str, count: int, poll: float, seconds: float) -> dict[str, float]:
    args = [sys.executable, str(ROOT / "bench" / "_agents_probe.py"), side, base_url, "--count", str(count),
            "--poll", str(poll), "--seconds", str(seconds)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} probe failed: {done.stderr[-1500:]}")
    last = done.stdout.strip().splitlines()[-1]
    return {key: float(value) for key, value in (item.split("=", 1) for item in last.split())}


def unsaturated(figures: dict[str, float]) -> bool:
    return figures["achieved"] >= KEEP_PACE * figures["offered"] and figures["lag_p95_ms"] < MAX_LAG_MS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--start", type=int, default=25)
    parser.add_argument("--max", type=int, default=1600)
    options = parser.parse_args()
    best = {"agents": 0, "plain": 0}
    with tempfile.TemporaryDirectory(prefix="scrmbench-bench-") as tmp:
        workdir = Path(tmp)
        mock, url = start_mock(workdir)
        vendor = launch_reference("steady", whatsapp_url=url, db_path=workdir / "vendor.db", log_dir=workdir)
        try:
            count = options.start
            running = {"agents": True, "plain": True}
            while count <= options.max and any(running.values()):
                for side in ("agents", "plain"):
                    if not running[side]:
                        continue
                    figures = probe(side, vendor.base_url, count, options.poll, options.seconds)
                    ok = unsaturated(figures)
                    verdict = "keeps pace" if ok else "saturated"
                    asked, made, lag = figures["offered"], figures["achieved"], figures["lag_p95_ms"]
                    line = f"asked {asked:.0f}/s, made {made:.1f}/s, loop lag p95 {lag:.1f} ms: {verdict}"
                    print(f"{side:6} N={count:4d}: {line}")
                    if ok:
                        best[side] = count
                    else:
                        running[side] = False
                count *= 2
        finally:
            vendor.stop()
            mock.stop()
    reached = "" if best["agents"] < options.max else f" (the --max {options.max} was reached)"
    print(
        f"most agents one worker simulates unsaturated: {best['agents']}{reached}; plain Locust users: {best['plain']}"
    )
    ratio = best["agents"] / best["plain"] if best["plain"] else 0.0
    print(f"agents ÷ plain Locust users, same HTTP calls (goal >= 0.7): {ratio:.2f}")


if __name__ == "__main__":
    main()
