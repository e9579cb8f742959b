"""deploy/docker-compose.yml runs for real under Debian's docker-compose: the locally built image (never pulled),
host networking, the mock, one reference vendor, a Locust master and two workers whose shards land in one shared
results folder; the run scores as one complete run, and ``down`` leaves nothing of the project behind. With one
worker container killed mid-run, the master carries on with the other and the run is partial, naming the worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
import yaml

from ground.errors import EXIT_PARTIAL
from ground.net import free_port
from tests.fixtures.common import require_system
from tests.fixtures.docker import built_image

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
SERVICES = ["mock", "vendor-steady", "subscribe", "locust-master", "locust-worker"]


@pytest.fixture(scope="session")
def python_image(docker_client: Any) -> Iterator[str]:
    """The Python image, built from this checkout by deploy/image as a user builds it (no registry)."""
    environment = {**os.environ, "PYTHON": sys.executable}  # this venv's packages go into the image (build.sh)
    with built_image("python", f"scrmbench-python:test-{os.getpid()}", timeout=600, env=environment) as tag:
        yield tag


def _leftovers(project: str) -> dict[str, list[str]]:
    label = f"label=com.docker.compose.project={project}"
    found = {}
    for kind, command in (
        ("containers", ["docker", "ps", "-aq", "--filter", label]),
        ("networks", ["docker", "network", "ls", "-q", "--filter", label]),
        ("volumes", ["docker", "volume", "ls", "-q", "--filter", label]),
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        found[kind] = done.stdout.split()
    return found


class Stack:
    """One compose project of the test (mock, steady vendor, master, two workers) at free ports, labelled."""

    def __init__(self, tmp_path: Path, image: str, run_id: str) -> None:
        require_system(
            "docker-compose", shutil.which("docker-compose") is not None, "the compose stack is run for real"
        )
        self.results = tmp_path / "results"
        self.results.mkdir()
        self.run_dir = self.results / run_id
        mock_port, vendor_port, master_port = free_port(), free_port(), free_port()
        # The steady reference vendor's profile, at this test's ports (the compose file's defaults are 8900/8910).
        profile = yaml.safe_load((ROOT / "vendors" / "reference-steady.yaml").read_text())
        profile.pop("launch")
        profile["base_url"] = f"http://127.0.0.1:{vendor_port}"
        profile["capabilities"]["mock_url"] = f"http://127.0.0.1:{mock_port}"
        (self.results / "vendor.yaml").write_text(yaml.safe_dump(profile))
        (self.results / "run.conf").write_text("quick = true\n")
        self.project = f"scrmbenchtest{uuid.uuid4().hex[:10]}"
        self.env = {
            **os.environ,
            "SCRMBENCH_IMAGE": image,
            "SCRMBENCH_ROOT": str(ROOT),
            "RESULTS_DIR": str(self.results),
            "MOCK_PORT": str(mock_port),
            "VENDOR_PORT": str(vendor_port),
            "MASTER_PORT": str(master_port),
            "WORKERS": "2",
            "SCENARIO": "peak",
            "RUN_ID": run_id,
            "VENDOR_PROFILE": "results/vendor.yaml",
            "LOCUST_CONFIG": "results/run.conf",
        }

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        compose = ["docker-compose", "--ansi", "never", "-p", self.project, "-f", str(COMPOSE_FILE)]
        return subprocess.run(
            [*compose, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def up(self) -> None:
        up = self.run("up", "-d", "--scale", "locust-worker=2", *SERVICES, timeout=240)
        assert up.returncode == 0, up.stderr[-3000:] + self.logs()

    def logs(self) -> str:
        return self.run("logs", "--no-color", "--tail", "60", timeout=60).stdout

    def wait_master(self) -> str:
        """The master's exit status, once it has exited (bounded)."""
        master = self.run("ps", "-q", "locust-master", timeout=60).stdout.strip()
        assert master
        waited = subprocess.run(["docker", "wait", master], capture_output=True, text=True, timeout=300, check=False)
        return waited.stdout.strip()

    def down(self) -> None:
        down = self.run("down", "-v", "--remove-orphans", "--timeout", "10", timeout=180)
        assert down.returncode == 0, down.stderr[-3000:]
        assert _leftovers(self.project) == {"containers": [], "networks": [], "volumes": []}

    def score(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness.cli", "score", str(self.run_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


def test_every_service_uses_the_local_image_and_never_pulls(tmp_path: Path) -> None:
    """As docker-compose itself resolves the file (anchors merged, variables at their defaults): every service has
    ``pull_policy: never`` and the locally built image. No engine needed: ``config`` only reads the file."""
    require_system("docker-compose", shutil.which("docker-compose") is not None, "the compose file is resolved")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SCRMBENCH_", "DOCKER_"))}
    resolved = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), "config"],
        env={**environment, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert resolved.returncode == 0, resolved.stderr
    services = yaml.safe_load(resolved.stdout)["services"]
    assert set(SERVICES) | {"vendor-degrading", "finish"} <= set(services)
    assert {name: (s["image"], s.get("pull_policy")) for name, s in services.items()} == {
        name: ("scrmbench-python:local", "never") for name in services
    }


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_compose_stack_runs_a_quick_peak_run_that_scores_as_one_complete_run(
    tmp_path: Path, python_image: str
) -> None:
    stack = Stack(tmp_path, python_image, "compose-test")
    try:
        stack.up()
        status = stack.wait_master()
        logs = stack.logs()
        assert status == "0", logs
        finish = stack.run("run", "--rm", "-T", "finish", timeout=180)
        assert finish.returncode == 0, finish.stderr[-3000:] + logs
    finally:
        stack.down()

    run_dir = stack.run_dir
    shards = sorted(p.name for p in (run_dir / "requests").glob("*.parquet"))
    assert {name.split("-p0-")[0] for name in shards} == {"worker-0", "worker-1"}, shards
    scored = stack.score()
    assert scored.returncode != EXIT_PARTIAL, scored.stdout[-3000:] + scored.stderr[-3000:]
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["complete"] is True and not manifest.get("missing_shards")
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["run"]["partial"] is False, summary["run"]["partial_reasons"]
    assert summary["sla"]["verdict"] != "INCOMPLETE"


def _both_workers_recording(run_dir: Path, deadline_s: float) -> bool:
    """True once both workers' request shards are in the run folder (the load is under way), within the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        names = {shard.name.split("-p0-")[0] for shard in (run_dir / "requests").glob("*.parquet")}
        if {"worker-0", "worker-1"} <= names:
            return True
        time.sleep(0.5)  # polling the shared folder for the real workers' first flush
    return False


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_killed_worker_container_leaves_the_master_going_and_the_run_partial_naming_it(
    tmp_path: Path, python_image: str
) -> None:
    stack = Stack(tmp_path, python_image, "compose-killed-worker")
    try:
        stack.up()
        assert _both_workers_recording(stack.run_dir, 120), stack.logs()
        workers = stack.run("ps", "-q", "locust-worker", timeout=60).stdout.split()
        assert len(workers) == 2, workers
        killed_at = time.time()
        kill = subprocess.run(["docker", "kill", workers[0]], capture_output=True, text=True, timeout=60, check=False)
        assert kill.returncode == 0, kill.stderr
        status = stack.wait_master()
        logs = stack.logs()
        assert status == "0", logs  # the master carried on with the other worker to the end of the plan
        finish = stack.run("run", "--rm", "-T", "finish", timeout=180)
        assert finish.returncode == EXIT_PARTIAL, finish.stdout[-2000:] + finish.stderr[-3000:] + logs
    finally:
        stack.down()

    manifest = orjson.loads((stack.run_dir / "manifest.json").read_bytes())
    assert manifest["complete"] is False
    missing = manifest["missing_workers"]
    assert len(missing) == 1 and missing[0]["worker"] in ("worker-0", "worker-1"), missing
    gone = missing[0]["worker"]
    assert killed_at - 5 <= missing[0]["missing_from"] <= missing[0]["missing_to"], missing
    assert any(note.startswith(f"{gone} went missing") for note in manifest["notes"]), manifest["notes"]
    assert gone in finish.stderr
    scored = stack.score()
    assert scored.returncode == EXIT_PARTIAL, scored.stdout[-3000:] + scored.stderr[-3000:]
    summary = orjson.loads((stack.run_dir / "summary.json").read_bytes())
    assert summary["run"]["partial"] is True
    assert [m["worker"] for m in summary["run"]["missing_workers"]] == [gone], summary["run"]
    # The other worker's records go on after the kill: the master kept its share of the schedule running.
    survivor = "worker-1" if gone == "worker-0" else "worker-0"
    shards = sorted((stack.run_dir / "requests").glob(f"{survivor}-p0-*.parquet"))
    scheduled = [at for shard in shards for at in pq.read_table(shard, columns=["scheduled_at"])[0].to_pylist()]
    latest = max(at for at in scheduled if at is not None)
    assert latest > killed_at + 2, (latest, killed_at)
