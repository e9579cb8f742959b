"""A pytest plugin so a team's CI can fail the build when its system misses the SLA.

    # test_sla.py
    def test_peak_meets_sla(scrmbench_run):
        assert scrmbench_run("peak", vendor="ours.yaml").passed

    $ pytest --scrmbench-sla enterprise            # the SLA every run is scored against (default: standard)

``scrmbench_run(scenario, vendor=..., sla=None, quick=True, seed=0, **params)`` runs the scenario through the
runner (``harness.run.runner``: the mock and the vendor the profile names are started on loopback), scores it,
and returns an ``SlaResult``. When the assertion fails, pytest prints the result, which lists every failing
criterion with its measured value and target. Registered through the ``pytest11`` entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ground.errors import ConfigError

_RUNS_KEY = pytest.StashKey[list["SlaResult"]]()


@dataclass(frozen=True)
class SlaResult:
    """One scored run: the verdict, the score and the criteria that failed, in words."""

    scenario: str
    vendor: str
    verdict: str
    score: float | None
    run_dir: Path
    failing: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    partial: bool = False

    @property
    def passed(self) -> bool:
        """PASS on a complete run only: a run that did not complete never passes a gate."""
        return self.verdict == "PASS" and not self.partial

    @classmethod
    def from_summary(cls, summary: dict[str, Any], run_dir: Path) -> SlaResult:
        run, sla = summary.get("run") or {}, summary.get("sla") or {}
        # No summary at all (the run died before scoring) counts as partial too.
        partial = bool(run.get("partial", True)) or not bool(run.get("complete", False))
        failing = []
        if partial:
            why = "; ".join(run.get("partial_reasons") or []) or "the run did not complete"
            failing.append(f"run is partial: {why}")
        for c in sla.get("criteria") or []:
            if c.get("status") in ("fail", "warn", "inconclusive"):
                words = c.get("reason") or f"{c.get('id')}: measured {c.get('measured')}, target {c.get('target')}"
                failing.append(f"{c.get('status')}{' (critical)' if c.get('critical') else ''}: {words}")
        return cls(
            str(run.get("scenario", "?")),
            str(run.get("vendor", "?")),
            str(sla.get("verdict") or "UNSCORED"),
            sla.get("score"),
            run_dir,
            failing,
            summary,
            partial,
        )

    def __repr__(self) -> str:
        # One line: pytest shows it inside the assertion message, where newlines would print as "\n".
        score = "–" if self.score is None else f"{self.score:.0f}/100"
        failing = " | ".join(self.failing) or "nothing failed"
        head = f"{self.scenario} against {self.vendor}: {self.verdict} {score}"
        return f"SlaResult({head}; {failing}; run: {self.run_dir})"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scrmbench", "scrmbench SLA gates")
    group.addoption(
        "--scrmbench-sla",
        default=None,
        metavar="PRESET|FILE",
        help="SLA preset (standard, enterprise) or SLA YAML file for scrmbench_run (default: standard).",
    )
    group.addoption(
        "--scrmbench-results",
        default=None,
        metavar="DIR",
        help="Where scrmbench_run keeps its results folders (default: a pytest temporary folder).",
    )
    group.addoption(
        "--scrmbench-full",
        action="store_true",
        default=False,
        help="Run scenarios at their full default size instead of the quick one.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUNS_KEY] = []


def _find_vendor(vendor: str | Path, test_dir: Path, rootdir: Path) -> Path:
    given = Path(vendor)
    for candidate in (given, test_dir / given, rootdir / given, rootdir / "vendors" / given):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "vendor profile not found",
        field="vendor",
        value=str(vendor),
        fix=f"give a path to a profile YAML (looked beside {test_dir} and in {rootdir}/vendors)",
    )


@pytest.fixture
def scrmbench_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., SlaResult]:
    """Run a scenario against a vendor profile, score it, return an ``SlaResult`` (``.passed`` for the assert)."""
    from harness.run.runner import RunRequest, execute

    config = request.config
    results = Path(config.getoption("--scrmbench-results") or tmp_path_factory.mktemp("scrmbench"))
    default_sla = config.getoption("--scrmbench-sla") or "standard"
    quick_default = not config.getoption("--scrmbench-full")

    def run(
        scenario: str,
        *,
        vendor: str | Path,
        sla: str | None = None,
        quick: bool | None = None,
        seed: int = 0,
        **params: Any,
    ) -> SlaResult:
        profile = _find_vendor(vendor, request.path.parent, config.rootpath)
        outcome = execute(
            RunRequest(
                vendor=profile,
                scenario=scenario,
                overrides=params,
                quick=quick_default if quick is None else quick,
                seed=seed,
                results_root=results,
                sla=sla or default_sla,
                show_progress=False,
            )
        )
        result = SlaResult.from_summary(outcome.summary or {}, outcome.run_dir)
        config.stash[_RUNS_KEY].append(result)
        return result

    return run


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    runs = config.stash.get(_RUNS_KEY, [])
    if not runs:
        return
    terminalreporter.section("scrmbench SLA runs")
    for r in runs:
        score = "–" if r.score is None else f"{r.score:.0f}/100"
        terminalreporter.line(f"{r.verdict:<11} {score:>7}  {r.scenario} against {r.vendor}  {r.run_dir}")
