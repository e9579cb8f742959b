"""The cores this process may run on: the machine as a run sees it.

``os.cpu_count()`` counts the machine's cores; a run started under ``taskset``, a cgroup cpuset (a container with
``--cpuset-cpus``) or ``os.sched_setaffinity`` may use fewer, and its children inherit that set. Everything that
sizes or judges load by cores (the bake-off's trial scheduler, the calibration cache, the peak scenario's burst,
the health sampler's machine figures) asks here, so a harness confined to one core of two judges itself against
one core, not two.
"""

from __future__ import annotations

import os


def usable_core_ids() -> list[int]:
    """The ids of the cores this process may run on, ascending (all of them where the OS cannot say)."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        try:
            ids = sorted(getaffinity(0))
        except OSError:
            ids = []
        if ids:
            return ids
    return list(range(os.cpu_count() or 1))


def usable_cores() -> int:
    """How many cores this process may run on (at least 1)."""
    return len(usable_core_ids())
