"""Per-process state of a run inside Locust: options → scenario plan → vendor profile, adapter and performer.

Built at ``test_start`` (workers receive the master's custom options with the spawn message, just before it),
cached on the ``Environment`` so every user of the process shares one performer and one token sequence.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from ground.errors import ScenarioError
from ground.net import check_target
from harness.adapters.registry import create_adapter, load_profile, parse_profile
from harness.config.profiles import VendorProfile
from harness.loadgen.customers import CustomerBook
from harness.loadgen.operations import MockTarget, OperationPicker, Performer
from harness.loadgen.options import EngineOptions
from plan.load import LoadPlan
from plan.params import ScenarioParams
from plan.rates import RateProfile
from scenarios.registry import get as get_scenario


def options_of(environment: Environment) -> EngineOptions:
    return EngineOptions.from_parsed(environment.parsed_options)


def params_for(environment: Environment) -> ScenarioParams:
    options = options_of(environment)
    return get_scenario(options.scenario).params(options.params, quick=options.quick)


def plan_for(environment: Environment) -> tuple[LoadPlan, RateProfile]:
    """The plan and this phase's shape; cached per process (the shape's tick calls this every second)."""
    cached = getattr(environment, "scrm_plan", None)
    if cached is None:
        options = options_of(environment)
        plan = get_scenario(options.scenario).plan(options.params, quick=options.quick)
        if not 0 <= options.phase < len(plan.phases):
            raise ScenarioError(
                f"the scenario has {len(plan.phases)} phase(s)",
                field="--phase",
                value=options.phase,
                fix=f"use 0..{len(plan.phases) - 1}",
            )
        cached = (plan, plan.phases[options.phase].profile)
        environment.scrm_plan = cached  # type: ignore[attr-defined]
    return cached  # type: ignore[no-any-return]


def worker_identity(environment: Environment, options: EngineOptions) -> tuple[int, int, str]:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        index = max(runner.worker_index, 0)
        count = options.worker_total or int(getattr(environment.parsed_options, "expect_workers", 1) or 1)
        return index, max(count, index + 1), f"worker-{index}"
    return 0, 1, "local"


@dataclass
class WorkerSession:
    options: EngineOptions
    plan: LoadPlan
    profile: RateProfile
    vendor: VendorProfile
    performer: Performer
    worker_index: int
    worker_count: int
    worker_name: str
    started_at: float = field(default_factory=time.time)
    schedule_start: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def pick_operation(self) -> str:
        """The closed model's next operation, from the mix, seeded per worker (one generator per process)."""
        picker = self.extras.get("picker")
        if picker is None:
            mix = [(t.operation, t.weight) for t in self.plan.mix]
            picker = OperationPicker(mix, seed=self.options.seed, worker_index=self.worker_index, purpose="closed")
            self.extras["picker"] = picker
        return str(picker.next())

    def note_schedule_start(self, first_due: float | None) -> None:
        self.schedule_start = time.time()


def build_session(environment: Environment) -> WorkerSession:
    options = options_of(environment)
    plan, profile = plan_for(environment)
    if options.vendor_json:
        # Workers on other machines cannot read the master's files: the runner sends the profile itself.
        vendor = parse_profile(json.loads(options.vendor_json), source="--vendor-json")
    elif options.vendor:
        vendor = load_profile(options.vendor)
    else:
        raise ScenarioError(
            "no vendor profile given", field="--vendor", value="", fix="pass --vendor vendors/FILE.yaml"
        )
    # Refuse before the first request (design.md, Safety): loopback always, others only allowlisted and confirmed.
    check_target(vendor.base_url, vendor.allowed_targets, owner_confirmed=options.owner_confirmed)
    mock_url = options.mock_url or (vendor.capabilities.mock_url or "")
    if mock_url:
        check_target(mock_url, vendor.allowed_targets, owner_confirmed=options.owner_confirmed)
    index, count, name = worker_identity(environment, options)
    run_tag = options.run_tag or "000000"
    phone_id = vendor.phone_numbers[0].id or "100000000000001"
    performer = Performer(
        adapter=create_adapter(vendor),
        customers=CustomerBook(plan.customers, seed=options.seed),
        run_tag=run_tag,
        worker_index=index,
        worker_name=name,
        vendor=vendor.name,
        scenario=plan.scenario,
        mock=MockTarget(mock_url, options.mock_admin_token, phone_id) if mock_url else None,
        options=plan.options,
        seed=options.seed,
        base_url=vendor.base_url,
        allowed_targets=tuple(vendor.allowed_targets),
        owner_confirmed=options.owner_confirmed,
    )
    environment.host = vendor.base_url
    return WorkerSession(options, plan, profile, vendor, performer, index, count, name)


def is_master(environment: Environment) -> bool:
    return isinstance(environment.runner, MasterRunner)
