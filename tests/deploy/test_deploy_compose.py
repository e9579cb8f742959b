"""deploy/docker-compose.yml runs for real under Debian's docker-compose: the locally built image (never pulled),
host networking, the mock, one reference vendor, a Locust master and two workers whose shards land in one shared
results folder; the run scores as one complete run, and ``down`` leaves nothing of the project behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from ground.errors import EXIT_PARTIAL
from ground.net import free_port
from tests.fixtures.common import require_system

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
SERVICES = ["mock", "vendor-steady", "subscribe", "locust-master", "locust-worker"]


@pytest.fixture(scope="session")
def python_image(docker_client: Any) -> Iterator[str]:
    """The Python image, built from this checkout by deploy/image as a user builds it (no registry)."""
    tag = f"scrmbench-python:test-{os.getpid()}"
    done = subprocess.run(
        [str(ROOT / "deploy" / "image" / "build.sh"), "python", "--tag", tag],
        env={**os.environ, "PYTHON": sys.executable},  # this venv's packages go into the image (build.sh)
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"building the Python image failed: {done.stderr.strip()[-2000:]}")
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120, check=False)


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


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_compose_stack_runs_a_quick_peak_run_that_scores_as_one_complete_run(
    tmp_path: Path, python_image: str
) -> None:
    require_system("docker-compose", shutil.which("docker-compose") is not None, "the compose stack is run for real")
    results = tmp_path / "results"
    results.mkdir()
    mock_port, vendor_port, master_port = free_port(), free_port(), free_port()
    # The steady reference vendor's profile, at this test's ports (the compose file's defaults are 8900/8910).
    profile = yaml.safe_load((ROOT / "vendors" / "reference-steady.yaml").read_text())
    profile.pop("launch")
    profile["base_url"] = f"http://127.0.0.1:{vendor_port}"
    profile["capabilities"]["mock_url"] = f"http://127.0.0.1:{mock_port}"
    (results / "vendor.yaml").write_text(yaml.safe_dump(profile))
    (results / "run.conf").write_text("quick = true\n")
    project, run_id = f"scrmbenchtest{uuid.uuid4().hex[:10]}", "compose-test"
    env = {
        **os.environ,
        "SCRMBENCH_IMAGE": python_image,
        "SCRMBENCH_ROOT": str(ROOT),
        "RESULTS_DIR": str(results),
        "MOCK_PORT": str(mock_port),
        "VENDOR_PORT": str(vendor_port),
        "MASTER_PORT": str(master_port),
        "WORKERS": "2",
        "SCENARIO": "peak",
        "RUN_ID": run_id,
        "VENDOR_PROFILE": "results/vendor.yaml",
        "LOCUST_CONFIG": "results/run.conf",
    }
    compose = ["docker-compose", "--ansi", "never", "-p", project, "-f", str(COMPOSE_FILE)]

    def run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)

    try:
        up = run("up", "-d", "--scale", "locust-worker=2", *SERVICES, timeout=240)
        assert up.returncode == 0, up.stderr[-3000:] + run("logs", "--no-color", "--tail", "40", timeout=60).stdout
        master = run("ps", "-q", "locust-master", timeout=60).stdout.strip()
        assert master
        waited = subprocess.run(["docker", "wait", master], capture_output=True, text=True, timeout=300, check=False)
        logs = run("logs", "--no-color", "--tail", "60", timeout=60).stdout
        assert waited.stdout.strip() == "0", logs
        finish = run("run", "--rm", "-T", "finish", timeout=180)
        assert finish.returncode == 0, finish.stderr[-3000:] + logs
    finally:
        down = run("down", "-v", "--remove-orphans", "--timeout", "10", timeout=180)
    assert down.returncode == 0, down.stderr[-3000:]
    assert _leftovers(project) == {"containers": [], "networks": [], "volumes": []}

    run_dir = results / run_id
    shards = sorted(p.name for p in (run_dir / "requests").glob("*.parquet"))
    assert {name.split("-p0-")[0] for name in shards} == {"worker-0", "worker-1"}, shards
    scored = subprocess.run(
        [sys.executable, "-m", "harness.cli", "score", str(run_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert scored.returncode != EXIT_PARTIAL, scored.stdout[-3000:] + scored.stderr[-3000:]
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["complete"] is True and not manifest.get("missing_shards")
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["run"]["partial"] is False, summary["run"]["partial_reasons"]
    assert summary["sla"]["verdict"] != "INCOMPLETE"
