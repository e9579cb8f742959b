"""Which SLA scores a run: a pure choice, shared by ``scrmbench score``, ``compare``, ``report`` and the runner.

The SLA is, in order: the ``--sla`` option; the manifest's ``sla``; the scenario's default criteria; the
``standard`` preset, with a note saying why the scenario's own criteria could not be used.

Analysis sits below the scenarios, so it does not look them up itself: the caller passes a
``ScenarioCriteria`` (``scenarios.registry.default_criteria``). Without one, a run that needs its scenario's
criteria is scored with the ``standard`` preset, and the SLA's notes say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analysis.load import RunData
from analysis.sla import ScopeNames, SlaSpec, check_scope_names, load_preset, resolve_sla, sla_from_criteria
from ground.errors import ConfigError

log = logging.getLogger(__name__)


# (scenario name, recorded parameters) → the scenario's default SLA criteria; a ConfigError naming ``field``
# when the scenario refuses one of the parameters.
ScenarioCriteria = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


def _param_key(field: str | None, params: dict[str, Any]) -> str | None:
    """The recorded parameter a scenario's refusal names ('--duration' → 'duration_s'), if it was recorded."""
    if not field:
        return None
    base = field.lstrip("-").replace("-", "_").removeprefix("scenario_params.")
    return next((key for key in (base, f"{base}_s") if key in params), None)


def _criteria_dropping_refused(
    scenario: str, params: dict[str, Any], scenario_criteria: ScenarioCriteria, notes: list[str]
) -> list[dict[str, Any]]:
    """The criteria, dropping (and naming in ``notes``) each recorded parameter the scenario now refuses."""
    for _ in range(len(params)):
        try:
            return scenario_criteria(scenario, params)
        except ConfigError as exc:
            key = _param_key(exc.field, params)
            if key is None:
                raise
            notes.append(
                f"the {scenario} scenario refuses its recorded parameter {key}={params.pop(key)!r} "
                f"({exc}); its criteria were built without it"
            )
    return scenario_criteria(scenario, params)


def scenario_sla(run: RunData, scenario_criteria: ScenarioCriteria | None = None) -> SlaSpec:
    """The scenario's own default criteria for this run's recorded parameters. A parameter the scenario now
    refuses (a run recorded by an older version) is dropped and named in the SLA's notes; when no criteria can
    be built, the ``standard`` preset, with a note saying why, never silently."""
    scenario = run.manifest.scenario
    notes: list[str] = []
    if scenario_criteria is None:
        notes.append(
            f"the {scenario} scenario's own criteria were not available to this analysis: "
            "scored with the standard preset instead; pass --sla to choose"
        )
        return load_preset("standard").model_copy(update={"notes": notes})
    try:
        criteria = _criteria_dropping_refused(scenario, dict(run.manifest.scenario_params), scenario_criteria, notes)
        if criteria:
            spec = sla_from_criteria(f"{scenario} defaults", criteria, source=f"scenario:{scenario}")
            return spec.model_copy(update={"notes": notes})
        notes.append(f"the {scenario} scenario has no default criteria: scored with the standard preset")
    except Exception as exc:  # an unknown or newer scenario, or parameters it refuses: the preset, said out loud
        log.debug("no scenario defaults for %s", scenario, exc_info=True)
        notes.append(
            f"the {scenario} scenario's own criteria could not be built for this run ({exc}): "
            "scored with the standard preset instead; pass --sla to choose"
        )
    return load_preset("standard").model_copy(update={"notes": notes})


def choose_sla(
    run: RunData,
    option: str | None,
    scenario_criteria: ScenarioCriteria | None = None,
    names: ScopeNames | None = None,
) -> SlaSpec:
    """``option`` (a preset name or an SLA file), else the manifest's SLA (a relative path read beside the run
    first), else ``scenario_sla``. With ``names`` (``harness.config.sla.scope_names``), a criterion scoped to an
    unknown scenario or fault is a ``ConfigError`` (``check_scope_names``)."""
    if option:
        spec = resolve_sla(option)
    elif run.manifest.sla:
        ref = run.manifest.sla
        beside = run.path / ref
        spec = resolve_sla(str(beside) if not Path(ref).is_absolute() and beside.exists() else ref)
    else:
        spec = scenario_sla(run, scenario_criteria)
    return spec if names is None else check_scope_names(spec, names)
