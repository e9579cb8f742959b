"""The plan floor: what a run will do, as plain data, before anything runs.

A scenario turns its parameters into a :class:`plan.load.LoadPlan` (phases with a rate shape, the operation mix,
the fault schedule, the setup steps, the default SLA criteria); the runner and every Locust worker follow the
same plan. Modules:

- ``plan.operations``: the operation names (what an adapter can be asked to do, what a scenario's users do);
- ``plan.rates``: load levels as functions of run time (constant, ramps, steps, spike, business week);
- ``plan.arrivals``: the open model's intended start times, divided across workers (pure, seeded);
- ``plan.load``: ``LoadPlan`` and its parts (``Phase``, ``TaskWeight``, ``FaultStep``, ``SetupStep``,
  ``Criterion``);
- ``plan.params``: ``ScenarioParams``, the parameters every scenario shares, with their bounds.

It imports only the ground floor (``ground``); mocks, analysis, scenarios and the harness build on it.
"""
