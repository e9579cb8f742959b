"""Read what the scorecard needs from results folders: the analysis's loaded run plus its summary.

``summary.json`` is used when the folder has one (written by ``scrmbench score``); otherwise the summary is
built on the spot with the analysis, scored against ``sla`` when one is given, so ``scrmbench report`` works
straight after ``scrmbench run``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.load import RunData, load_run
from analysis.sla import ScopeNames
from analysis.sla_choice import ScenarioCriteria, choose_sla
from analysis.summary import build_summary
from ground.errors import AnalysisError, ConfigError
from ground.records import FaultEvent, RunManifest


@dataclass
class RunBundle:
    """One results folder, loaded, with its summary."""

    data: RunData
    summary: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.data.path

    @property
    def manifest(self) -> RunManifest:
        return self.data.manifest

    @property
    def requests(self) -> pd.DataFrame:
        return self.data.requests

    @property
    def faults(self) -> list[FaultEvent]:
        return self.data.faults

    @property
    def run(self) -> dict[str, Any]:
        section = self.summary.get("run")
        return section if isinstance(section, dict) else {}

    @property
    def vendor(self) -> str:
        name = self.run.get("vendor") or self.manifest.vendor.get("name") or self.manifest.run_id
        return str(name)

    @property
    def scenario(self) -> str:
        return str(self.run.get("scenario") or self.manifest.scenario)

    @property
    def sla(self) -> dict[str, Any]:
        section = self.summary.get("sla")
        return section if isinstance(section, dict) else {}


def _read_summary(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AnalysisError(
            f"{file}: not valid JSON ({exc.msg} at line {exc.lineno}); rebuild it with `scrmbench score {file.parent}`"
        ) from exc
    if not isinstance(data, dict):
        raise AnalysisError(f"{file}: expected a JSON object; rebuild it with `scrmbench score {file.parent}`")
    return data


def load_bundle(
    path: Path,
    *,
    sla: str | None = None,
    scenario_criteria: ScenarioCriteria | None = None,
    scope_names: ScopeNames | None = None,
) -> RunBundle:
    """Load one results folder; a wrong path is the user's input (exit 2), a damaged folder the harness's (3).

    Its ``summary.json`` is used as written unless ``sla`` asks for scoring against another SLA, or the run
    has never been scored; then the SLA is the one ``scrmbench score`` would use (``analysis.sla_choice``), the
    scenario's own criteria coming from ``scenario_criteria``, the scope names it may use from ``scope_names``.
    """
    data = load_run(path)  # a path that is no folder is refused there (ConfigError naming RUN_DIR, exit 2)
    file = path / "summary.json"
    if file.is_file() and sla is None:
        summary = _read_summary(file)
        if summary.get("sla") is not None:
            return RunBundle(data, summary)
    return RunBundle(data, build_summary(data, sla=choose_sla(data, sla, scenario_criteria, scope_names)))


def load_bundles(
    paths: list[Path],
    *,
    sla: str | None = None,
    scenario_criteria: ScenarioCriteria | None = None,
    scope_names: ScopeNames | None = None,
) -> list[RunBundle]:
    if not paths:
        raise ConfigError("no results folder given", field="RUN_DIR", fix="pass one or more folders under results/")
    return [load_bundle(p, sla=sla, scenario_criteria=scenario_criteria, scope_names=scope_names) for p in paths]
