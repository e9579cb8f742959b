"""The live progress display of ``scrmbench run``: elapsed, rps, p95, errors, dropped slots, faults.

It reads what the Locust coordinator publishes once a second (``live.json``) and the fault timeline's events, so
it works the same for a local runner and for a master with workers on other machines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from ground.records import FaultEvent


def read_live(run_dir: Path) -> dict[str, Any]:
    try:
        data = orjson.loads((run_dir / "live.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def render(
    live: dict[str, Any], *, scenario: str, phase: str, elapsed_s: float, planned_s: float, faults: list[FaultEvent]
) -> Table:
    table = Table(title=f"scrmbench · {scenario} · {phase}", show_header=True, expand=False)
    for column in ("elapsed", "rps", "p95 ms", "requests", "errors", "dropped", "users", "faults"):
        table.add_column(column, justify="right")
    requests = int(live.get("requests", 0))
    failures = int(live.get("failures", 0))
    error_share = f"{failures} ({100 * failures / requests:.1f}%)" if requests else "0"
    last = faults[-1] if faults else None
    fault_text = f"{len(faults)} · {last.action} {last.fault}" if last else "none"
    table.add_row(
        f"{elapsed_s:.0f}/{planned_s:.0f} s",
        f"{float(live.get('rps', 0.0)):.1f}",
        f"{float(live.get('p95_ms', 0.0)):.0f}",
        str(requests),
        error_share,
        str(int(live.get("dropped", 0))),
        str(int(live.get("users", 0))),
        fault_text,
    )
    return table
