"""One run, from vendor profile and scenario to a scored results folder (``runner.execute``), and its steps.

- ``runner``: ``RunRequest`` → ``execute`` → ``RunResult``; prepares, starts the stack, plays the phases, scores;
- ``locust_phase``: Locust for one phase as separate processes (one local runner, or a master and N workers);
- ``progress``: the live display (``live.json`` and the fault timeline);
- ``steps``: the scenario's setup steps before the load, the mock's records exported after it;
- ``faults``: the scenario's fault steps and a ``--faults`` file → the fault runner, in the background;
- ``shards``: remote workers' records arrived or not (the folder and its manifest: ``harness.results``);
- ``health``: which process of the run plays which role for the health sampler (``harness.health`` samples);
- ``resources``: the candidate's memory, when observable;
- ``capacity``: this machine's calibration, and the plan's peak checked against it before anything starts;
- ``calibrate``: ``scrmbench calibrate``, staircases played through the runner to measure that capacity.

What the run starts (the mock, the candidate, the chaos proxy) is ``harness.stack``.
"""
