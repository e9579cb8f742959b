"""deploy/kubernetes/scrmbench.yaml validated offline with kubectl (no cluster, no server, no network).

``kubectl apply --dry-run=client`` and ``kubectl create --dry-run=client`` both ask a server for its API
discovery, so with no cluster they fail whatever the manifests say. Offline, kubectl's ``--local`` commands
decode manifests with its built-in scheme and no server: ``kubectl set image --local`` decodes every Deployment
and Job into the typed Kubernetes structs (an unknown apiVersion/kind or a field of the wrong type fails; unknown
field *names* are not rejected: that needs the server's OpenAPI schema), ``kubectl set selector --local`` does
the same for every Service, and ``kubectl label --local`` checks every document (the PersistentVolumeClaim and the
ConfigMap too) is an object with an apiVersion, a kind and a name. The rest is checked here: every image is the
locally built one and never pulled, and the Services, ConfigMap and claim the workloads use exist and match.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.common import require_system

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes" / "scrmbench.yaml"
LOCAL_IMAGE = "scrmbench-python:local"
WORKLOADS = {"Deployment", "Job"}


def _documents() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]


@pytest.fixture
def kubectl(tmp_path: Path) -> Any:
    require_system("kubernetes-client", shutil.which("kubectl") is not None, "the manifests are checked by kubectl")
    # No kubeconfig: nothing of the user's cluster is read, and nothing may reach a server.
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "no-kubeconfig")}

    def run(*args: str, documents: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "manifests.yaml"
        path.write_text(yaml.safe_dump_all(documents))
        return subprocess.run(
            ["kubectl", *args, "-f", str(path)], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    return run


def test_every_manifest_decodes_offline_with_kubectl(kubectl: Any) -> None:
    documents = _documents()
    named = kubectl("label", "--local", "-o", "name", "checked=offline", documents=documents)
    assert named.returncode == 0, named.stderr
    expected = {f"{doc['kind'].lower()}/{doc['metadata']['name']}" for doc in documents}
    assert {line.split(".")[0].split("/")[0] + "/" + line.split("/")[-1] for line in named.stdout.split()} == expected

    workloads = [doc for doc in documents if doc["kind"] in WORKLOADS]
    # A different image, so every workload is changed and printed (kubectl prints nothing for an unchanged one).
    decoded = kubectl("set", "image", "--local", "-o", "name", "*=scrmbench-python:offline-check", documents=workloads)
    assert decoded.returncode == 0, decoded.stderr
    assert len(decoded.stdout.split()) == len(workloads), decoded.stdout
    for service in (doc for doc in documents if doc["kind"] == "Service"):
        selector = ",".join(f"{k}={v}" for k, v in service["spec"]["selector"].items())
        typed = kubectl("set", "selector", "--local", "-o", "name", selector, documents=[service])
        assert typed.returncode == 0, typed.stderr


def test_kubectl_offline_check_rejects_a_field_of_the_wrong_type(kubectl: Any) -> None:
    """The check above is not vacuous: a wrong manifest fails it."""
    broken = next(doc for doc in _documents() if doc["kind"] == "Deployment")
    broken["spec"]["replicas"] = "four"
    decoded = kubectl("set", "image", "--local", "-o", "name", "*=scrmbench-python:offline-check", documents=[broken])
    assert decoded.returncode != 0 and "replicas" in decoded.stderr


def test_every_image_is_the_local_one_and_never_pulled() -> None:
    containers = [
        container
        for doc in _documents()
        if doc["kind"] in WORKLOADS
        for container in doc["spec"]["template"]["spec"]["containers"]
    ]
    assert containers
    assert all(c["image"] == LOCAL_IMAGE and c["imagePullPolicy"] == "Never" for c in containers)


def test_services_config_and_claims_the_workloads_use_exist() -> None:
    documents = _documents()
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    pod_labels = [doc["spec"]["template"]["metadata"]["labels"] for doc in documents if doc["kind"] in WORKLOADS]
    for service in by_kind["Service"].values():
        assert any(service["spec"]["selector"].items() <= labels.items() for labels in pod_labels), service
    for deployment in by_kind["Deployment"].values():
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    for doc in documents:
        if doc["kind"] not in WORKLOADS:
            continue
        pod = doc["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] in by_kind["ConfigMap"]
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in by_kind["PersistentVolumeClaim"]
        for container in pod["containers"]:
            assert {mount["name"] for mount in container.get("volumeMounts", [])} <= set(volumes)
    master = by_kind["Job"]["locust-master"]["spec"]["template"]["spec"]
    assert master["restartPolicy"] == "Never"  # a finished headless master is not started again
