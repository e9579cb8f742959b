"""What a run (or ``vendors check --launch``) starts on loopback: the mock and the candidate the profile names.

- ``launchers``: one ``Launcher`` per ``launch.kind`` (``none``, ``reference``, ``ha-pair``, ``container``,
  ``facade``, ``mock``) in the ``LAUNCHERS`` registry, each with ``start()`` and ``planned_targets()``;
- ``mock``: the mock WhatsApp API as a process (or N shards, ``--mock-shards``, and the routes to them), and
  the vendor's webhooks subscribed at it;
- ``services``: ``start_services`` for a run (``RunServices``: the effective profile, the fault targets);
- ``local``: ``local_stack`` for ``vendors check --launch`` and tests;
- ``failover``: what ``failover.method`` needs before any load (the chaos proxy in front, a checked container);
- ``container``, ``image``: the reference vendor in a container the harness owns, and its runtime image.
"""
