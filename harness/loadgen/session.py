"""Per-process state of a run inside Locust: options → scenario plan → vendor profile, adapter and performer.

Built at ``test_start`` from the process's run spec (workers receive the master's copy with the spawn message, just
before it), kept on the process's context so every user of the process shares one performer and one token
sequence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from ground.net import check_target
from harness.adapters.pooled_executor import PooledExecutor
from harness.adapters.registry import create_adapter
from harness.config.profiles import VendorProfile
from harness.loadgen.customers import CustomerBook
from harness.loadgen.operations import MockTarget, OperationPicker, Performer
from harness.loadgen.options import EngineOptions
from harness.loadgen.spec import RunSpec
from plan.load import LoadPlan
from plan.numbers import NumberSpread
from plan.rates import RateProfile


def worker_identity(environment: Environment, options: EngineOptions) -> tuple[int, int, str]:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        index = max(runner.worker_index, 0)
        count = options.worker_total or int(getattr(environment.parsed_options, "expect_workers", 1) or 1)
        return index, max(count, index + 1), f"worker-{index}"
    return 0, 1, "local"


@dataclass
class WorkerSession:
    spec: RunSpec
    plan: LoadPlan
    profile: RateProfile
    vendor: VendorProfile
    performer: Performer
    executor: PooledExecutor  # every user of the process sends through it (one keep-alive pool per host)
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
            picker = OperationPicker(mix, seed=self.spec.seed, worker_index=self.worker_index, purpose="closed")
            self.extras["picker"] = picker
        return str(picker.next())

    def note_schedule_start(self, first_due: float | None) -> None:
        self.schedule_start = time.time()


def build_session(
    environment: Environment, spec: RunSpec, plan: LoadPlan, profile: RateProfile, *, users: int = 1
) -> WorkerSession:
    """This load process's session for ``spec`` (its plan and this phase's shape built once, on its context);
    ``users``: the most users the closed model runs on this process (the open model's pool is the plan's)."""
    options = EngineOptions.from_parsed(environment.parsed_options)
    vendor = spec.profile
    # Refuse before the first request (design.md, Safety): loopback always, others only allowlisted and confirmed.
    check_target(vendor.base_url, vendor.allowed_targets, owner_confirmed=spec.owner_confirmed)
    mock_url = spec.mock_url or (vendor.capabilities.mock_url or "")
    if mock_url:
        check_target(mock_url, vendor.allowed_targets, owner_confirmed=spec.owner_confirmed, field="mock_url")
    # A hosted vendor's sends reach real people: only the profile's recipients, never invented ones (exit 2).
    recipients = vendor.fixed_recipients(source=spec.profile_file or None)
    index, count, name = worker_identity(environment, options)
    run_tag = spec.run_tag or "000000"
    phone_id = vendor.phone_numbers[0].id or "100000000000001"
    performer = Performer(
        adapter=create_adapter(vendor),
        customers=CustomerBook(plan.customers, seed=spec.seed, recipients=recipients),
        run_tag=run_tag,
        worker_index=index,
        worker_name=name,
        vendor=vendor.name,
        scenario=plan.scenario,
        mock=MockTarget(mock_url, options.mock_admin_token, phone_id, spec.customer_numbers) if mock_url else None,
        options=plan.options,
        seed=spec.seed,
        base_url=vendor.base_url,
        allowed_targets=tuple(vendor.allowed_targets),
        owner_confirmed=spec.owner_confirmed,
        # Every send goes out over all of the profile's numbers (plan.numbers), workers interleaved.
        numbers=NumberSpread(
            vendor.business_numbers(),
            seed=spec.seed,
            worker_index=index,
            worker_count=count,
            spread=vendor.number_spread,
        ),
    )
    environment.host = vendor.base_url
    executor = PooledExecutor(
        environment.events.request,
        base_url=vendor.base_url,
        allowed_targets=tuple(vendor.allowed_targets),
        owner_confirmed=spec.owner_confirmed,
        # One socket per user that can be in flight, so no request ever waits for a connection of the harness's.
        concurrency=max(1, plan.pool_size if plan.load_model == "open" else users),
        routes=spec.routes,
    )
    return WorkerSession(spec, plan, profile, vendor, performer, executor, index, count, name)


def is_master(environment: Environment) -> bool:
    return isinstance(environment.runner, MasterRunner)
