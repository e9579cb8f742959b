"""What a plain ``locust -f locustfile.py`` run leaves out of a scenario (no Locust import: testable anywhere).

Only ``scrmbench run`` starts the fault schedule, performs the setup steps (``vendor-seed``, ``mock-limits``),
runs the phases one after the other and exports the mock's ledger and webhook attempts. Locust alone (also under
docker compose or Kubernetes, ``deploy/``) runs one phase of the load; the manifest it writes says so in its
notes, and the master warns at start, instead of a run that silently looks whole.
"""

from __future__ import annotations

from plan.load import LoadPlan

RUN_INSTEAD = "use `scrmbench run` for the whole scenario"


def not_run_here(plan: LoadPlan, phase: int) -> list[str]:
    """What of the scenario a plain ``locust -f`` run does not do (only ``scrmbench run`` does), one line each."""
    parts = []
    if plan.faults:
        steps = ", ".join(f"{step.fault} at {step.at_s:g} s" for step in plan.faults)
        parts.append(f"not run: the scenario's fault schedule ({steps}); no fault was injected. {RUN_INSTEAD}")
    setup = [step.action for step in plan.setup] + [step.action for p in plan.phases for step in p.setup]
    if setup:
        parts.append(f"not run: the setup steps ({', '.join(setup)}). {RUN_INSTEAD}")
    others = [p.name for index, p in enumerate(plan.phases) if index != phase]
    if others:
        ran = plan.phases[phase].name
        parts.append(f"not run: phase(s) {', '.join(others)}; only phase {ran} (--phase {phase}) ran. {RUN_INSTEAD}")
    parts.append(
        "not run: the ledger export (ledger.parquet, webhooks.parquet from the mock): delivery and webhook "
        f"figures are missing and the run scores as partial. {RUN_INSTEAD}"
    )
    return parts
