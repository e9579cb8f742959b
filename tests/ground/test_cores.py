"""The cores a run may use: its CPU affinity, not the machine's count."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ground import cores

CONFINED = """
import json, os, sys
os.sched_setaffinity(0, {int(sys.argv[1])})
from ground.cores import usable_core_ids, usable_cores
from harness.health import machine_rows
import pathlib
rows = machine_rows(0.0, pathlib.Path("."))
print(json.dumps({"ids": usable_core_ids(), "n": usable_cores(), "metrics": {r[4]: r[5] for r in rows}}))
"""


def test_an_unconfined_process_may_use_the_cores_of_its_affinity() -> None:
    ids = cores.usable_core_ids()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert cores.usable_cores() == len(ids) >= 1
    if hasattr(os, "sched_getaffinity"):
        assert set(ids) == os.sched_getaffinity(0)


def test_where_the_os_cannot_say_every_core_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert cores.usable_core_ids() == [0, 1, 2]
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cores.usable_cores() == 1


def test_a_failing_affinity_call_falls_back_to_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(pid: int) -> set[int]:
        raise OSError("not permitted")

    monkeypatch.setattr(os, "sched_getaffinity", refuse, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert cores.usable_core_ids() == [0, 1]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_a_process_confined_to_one_core_sees_and_samples_one_core() -> None:
    last = max(os.sched_getaffinity(0))
    out = subprocess.run(
        [sys.executable, "-c", CONFINED, str(last)], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(out.stdout)
    assert seen["ids"] == [last] and seen["n"] == 1
    metrics = seen["metrics"]
    assert metrics["cores"] == 1.0
    per_core = {k for k in metrics if k.startswith("cpu_busy_pct_core")}
    assert per_core == {f"cpu_busy_pct_core{last}"}  # the other cores are not this run's
    assert metrics["cpu_busy_pct"] == metrics[f"cpu_busy_pct_core{last}"]
