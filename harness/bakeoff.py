"""``scrmbench demo``: the one-command bake-off of the reference vendors, ending in a scorecard.

Plan: three candidates built from the reference vendor with known behaviour (steady, degrading, lossy; see
``bakeoff_jobs.CANDIDATES`` for how each is deployed) × three short scenarios (peak, media-burst, failover),
each a ``scrmbench run`` of its own (several at once: a separate process per run keeps their mocks, vendors
and Locust apart), scored against each scenario's own criteria (or ``--sla``), then one scorecard. The demo
checks its own call (``bakeoff_jobs.EXPECTED``): steady must PASS; degrading must FAIL for its reply latency at
peak and lossy for lost acknowledged messages, each led by that reason; an INCONCLUSIVE or INCOMPLETE verdict is
not the designed call either. It says which check failed.

Before any load it proves the loop is alive: the mock starts on a free loopback port and accepts a message.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from analysis.scorecard import Scorecard, make_scorecard, render
from harness.bakeoff_jobs import CANDIDATES, EXPECTED, MAX_PARALLEL, Tick, plan_jobs, run_jobs
from harness.errors import HarnessError
from harness.local_stack import start_mock

MOCK_TOKEN = "mock-access-token"  # the mock's documented development default (docs/contracts.md)
MOCK_PHONE_ID = "100000000000001"
Progress = Callable[[str], None]


@dataclass
class DemoResult:
    folder: Path
    mock_check: str
    runs: list[Path] = field(default_factory=list)
    scorecard: Path | None = None
    verdicts: dict[str, tuple[str, float | None, str]] = field(default_factory=dict)  # vendor → verdict, score, why
    skipped: str = ""
    failures: list[str] = field(default_factory=list)
    card: Scorecard | None = None
    failed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # vendor → failed (scenario, metric)

    def call_problems(self) -> list[str]:
        """How the scorecard differs from the demo's design, in words; empty when it ranks the references as
        designed (steady PASS; degrading and lossy FAIL, each for its designed cause, which leads its reasons)."""
        if not self.verdicts:
            return ["nothing was scored"]
        problems = [f"{vendor} is missing from the scorecard" for vendor in CANDIDATES if vendor not in self.verdicts]
        for vendor, (want, cause) in EXPECTED.items():
            if vendor not in self.verdicts:
                continue
            verdict, _score, why = self.verdicts[vendor]
            if verdict != want:
                problems.append(f"{vendor} is {verdict}, designed to {want}" + (f" ({why})" if why else ""))
            elif cause is not None:
                scenario, metric = cause
                if cause not in self.failed.get(vendor, []):
                    problems.append(f"{vendor} failed, but not on {metric} in {scenario}, its designed weakness")
                elif not why.startswith(f"{scenario}:"):
                    problems.append(f"{vendor}'s first reason is not its designed cause ({metric} in {scenario})")
        return problems

    @property
    def right_call(self) -> bool:
        """The demo ranks the references as designed (``call_problems`` is empty)."""
        return not self.call_problems()


def prove_mock(folder: Path, progress: Progress) -> str:
    """Start the mock, send one message through its Graph API, read it back from the ledger; stop the mock."""
    with ExitStack() as stack:
        progress("starting the mock WhatsApp Cloud API on loopback")
        workdir = folder / "preflight"
        workdir.mkdir(parents=True, exist_ok=True)
        base = start_mock(workdir, stack)
        body = {
            "messaging_product": "whatsapp",
            "to": "15550001111",
            "type": "text",
            "text": {"body": "scrmbench demo preflight"},
        }
        with httpx.Client(base_url=base, timeout=10.0, trust_env=False) as client:
            sent = client.post(
                f"/v23.0/{MOCK_PHONE_ID}/messages", json=body, headers={"Authorization": f"Bearer {MOCK_TOKEN}"}
            )
            if sent.status_code != 200:
                raise HarnessError(f"the mock refused the preflight message: HTTP {sent.status_code} {sent.text[:200]}")
            wamid = sent.json()["messages"][0]["id"]
            ledger = client.get(
                "/_mock/ledger", params={"format": "ndjson"}, headers={"Authorization": "Bearer mock-admin-token"}
            )
        rows = [line for line in ledger.text.splitlines() if line.strip()]
        found = any(wamid in line for line in rows)
        check = f"mock at {base} accepted a message ({wamid}) and its ledger {'holds' if found else 'lacks'} it"
        progress(check)
        if not found:
            raise HarnessError("the mock's ledger does not hold the message it accepted; see preflight/mock.log")
        return check


def runner_available() -> bool:
    """True once ``scrmbench run`` exists in this checkout (harness/commands/run.py)."""
    return importlib.util.find_spec("harness.commands.run") is not None


def find_run_folder(out: Path) -> Path | None:
    """The results folder ``scrmbench run --out`` wrote: ``out`` itself or the newest run folder inside it."""
    if (out / "manifest.json").is_file():
        return out
    found = sorted(p.parent for p in out.glob("*/manifest.json"))
    return found[-1] if found else None


def demo_folder(root: Path, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(tz=dt.UTC)).strftime("%Y%m%d-%H%M%S")
    return root / f"demo-{stamp}"


def run_bakeoff(
    result: DemoResult, *, quick: bool, progress: Progress, sla: str | None = None, tick: Tick | None = None
) -> DemoResult:
    """Every vendor × scenario (several at once, each its own ``scrmbench run``), then one scorecard."""
    jobs = plan_jobs(result.folder, quick=quick, sla=sla)
    for job in run_jobs(jobs, max_parallel=MAX_PARALLEL, progress=progress, tick=tick):
        if job.problem:
            result.failures.append(f"{job.vendor} {job.scenario}: {job.problem}")
        folder = find_run_folder(job.out)
        if folder is not None:
            result.runs.append(folder)
    if not result.runs:
        raise HarnessError("no run of the bake-off produced records: " + "; ".join(result.failures))
    progress("writing the scorecard")
    # Each run was scored by `scrmbench run` (with --sla when given): its summary.json is used as written.
    card = make_scorecard(sorted(result.runs), title="scrmbench demo: three reference candidates")
    result.card = card
    result.scorecard = render.write(card, result.folder / "scorecard.html", "html")
    for fmt in ("md", "json", "csv"):
        render.write(card, result.folder / f"scorecard.{fmt}", fmt)
    for scored in card.vendors:
        result.verdicts[scored.name] = (scored.verdict, scored.score, "; ".join(scored.reasons[:2]))
        result.failed[scored.name] = [(c.scenario, c.metric) for c in scored.criteria if c.status == "fail"]
    return result


def run_demo(
    root: Path, *, quick: bool, progress: Progress, sla: str | None = None, tick: Tick | None = None
) -> DemoResult:
    """Preflight the mock, then the bake-off when the runner is installed; the scorecard last."""
    folder = demo_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    result = DemoResult(folder, prove_mock(folder, progress))
    if not runner_available():
        result.skipped = "`scrmbench run` is not installed in this checkout yet; only the mock was checked"
        return result
    return run_bakeoff(result, quick=quick, progress=progress, sla=sla, tick=tick)
