"""One object per Locust process for everything scrmbench keeps there: ``environment.scrm`` (a :class:`RunContext`).

Read it with :func:`context_of`; nothing else is attached to Locust's ``Environment`` or runner. What each part
holds, and on which process:

- ``spec``: the run's :class:`~harness.loadgen.spec.RunSpec`, parsed once (every process); ``plan``/``params``:
  the scenario's plan, this phase's shape and the validated parameters, built once from it;
- ``session``, ``recorder``, ``engine`` (open model), ``probe``: the load processes (workers, local runner);
- ``live`` (the ``live.json`` greenlet), ``done`` (workers' "my share is through" reports), ``workers`` (when
  each worker went missing): the coordinator (master, local runner).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from gevent import Greenlet
from locust.env import Environment
from locust.runners import WorkerRunner

from ground.errors import ScenarioError
from harness.loadgen.options import EngineOptions
from harness.loadgen.session import WorkerSession
from harness.loadgen.spec import WIRE_OPTION, RunSpec, read_run_spec, spec_from_dict, spec_from_options
from plan.load import LoadPlan
from plan.params import ScenarioParams
from plan.rates import RateProfile
from scenarios.registry import get as get_scenario

ATTRIBUTE = "scrm"  # the one attribute on Locust's Environment


class Stoppable(Protocol):
    """The health probe (``health_probe.GeneratorProbe``): all this context does with it is stop it."""

    def stop(self) -> None: ...


class LoadEngine(Stoppable, Protocol):
    """The open model's engine (``locust_engine.OpenEngine``, which reads this context: a protocol here)."""

    def done(self) -> bool: ...

    def release_users(self) -> None:
        """Wake every user waiting for a slot (the test is stopping)."""


@dataclass
class RunContext:
    spec: RunSpec | None = None
    # The scrmbench options a plain run's spec was built from (None: read from --run-spec or the master's spawn
    # message); a web UI edit before the first use rebuilds it, as the options were read at first use before.
    spec_options: tuple[Any, ...] | None = None
    spec_used: bool = False
    params: ScenarioParams | None = None
    plan: tuple[LoadPlan, RateProfile] | None = None
    session: WorkerSession | None = None
    recorder: Any = None
    engine: LoadEngine | None = None
    probe: Stoppable | None = None
    agents: Any = None  # contact-centre runs: this process's AgentDesk (harness.loadgen.agents)
    live: Greenlet | None = None
    done: dict[str, bool] = field(default_factory=dict)
    workers: dict[str, Any] = field(default_factory=dict)


def context_of(environment: Environment) -> RunContext:
    """This process's context (created on first use)."""
    attributes = vars(environment)
    context = attributes.get(ATTRIBUTE)
    if not isinstance(context, RunContext):
        context = attributes[ATTRIBUTE] = RunContext()
    return context


def spec_of(environment: Environment) -> RunSpec:
    """This process's run spec, parsed once (``hooks`` reads ``--run-spec`` or the master's copy at init and test
    start; a plain run builds it from its options at init, again at first use only after a web UI edit)."""
    spec = prepare_spec(environment)
    context_of(environment).spec_used = True
    return spec


def prepare_spec(environment: Environment) -> RunSpec:
    """The spec without fixing it: a plain run's is rebuilt while its options change before its first use."""
    context = context_of(environment)
    key = _spec_options(environment) if context.spec_options is not None else None
    if context.spec is None or (not context.spec_used and key != context.spec_options):
        options = EngineOptions.from_parsed(environment.parsed_options)
        context.spec, context.spec_options = spec_from_options(options), _spec_options(environment)
        context.plan = context.params = None
    return context.spec


def adopt_spec(environment: Environment) -> RunSpec | None:
    """At init and test start: the spec handed to this process (``--run-spec PATH``, or on a worker the master's
    copy from the spawn message), parsed once; None when it has none (a plain run builds its own)."""
    context = context_of(environment)
    if context.spec is not None and context.spec_options is None:
        return context.spec
    parsed = environment.parsed_options
    wire = str(getattr(parsed, WIRE_OPTION, "") or "")
    path = str(getattr(parsed, "run_spec", "") or "")
    if wire and isinstance(environment.runner, WorkerRunner):
        spec = spec_from_dict(json.loads(wire), source="the master's run spec")
    elif path:
        spec = read_run_spec(path)
    else:
        return None
    context.spec, context.spec_options, context.plan, context.params = spec, None, None, None
    return spec


def _spec_options(environment: Environment) -> tuple[Any, ...]:
    parsed = environment.parsed_options
    names = ("scenario", "vendor", "vendor_json", "quick", "scenario_params", "seed", "mock_url", "phase", "run_id")
    return tuple(getattr(parsed, name, None) for name in names)


def params_for(environment: Environment) -> ScenarioParams:
    context = context_of(environment)
    spec = spec_of(environment)
    if context.params is None:
        context.params = get_scenario(spec.scenario).params(spec.params, recorded=True)
    return context.params


def plan_for(environment: Environment) -> tuple[LoadPlan, RateProfile]:
    """The plan and this phase's shape; built once per process (the shape's tick calls this every second)."""
    context = context_of(environment)
    if context.plan is None:
        spec = spec_of(environment)
        plan = get_scenario(spec.scenario).build_plan(params_for(environment))
        if not 0 <= spec.phase < len(plan.phases):
            raise ScenarioError(
                f"the scenario has {len(plan.phases)} phase(s)",
                field="--phase",
                value=spec.phase,
                fix=f"use 0..{len(plan.phases) - 1}",
            )
        context.plan = (plan, plan.phases[spec.phase].profile)
    return context.plan
