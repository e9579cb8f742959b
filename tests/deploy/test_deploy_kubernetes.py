"""deploy/kubernetes/scrmbench.yaml validated offline with kubectl (no cluster, no server, no network).

``kubectl apply --dry-run=client`` and ``kubectl create --dry-run=client`` both ask a server for its API
discovery, so with no cluster they fail whatever the manifests say. Offline, kubectl's ``--local`` commands
decode manifests with its built-in scheme and no server: ``kubectl set image --local`` decodes every Deployment
and Job into the typed Kubernetes structs (an unknown apiVersion/kind or a field of the wrong type fails; unknown
field *names* are not rejected: that needs the server's OpenAPI schema), ``kubectl set selector --local`` does
the same for every Service, and ``kubectl label --local`` checks every document (the PersistentVolumeClaim and the
ConfigMap too) is an object with an apiVersion, a kind and a name. The rest is checked here: every image is the
locally built one and never pulled, and the Services, ConfigMap and claim the workloads use exist and match.

The mock sends webhooks to loopback hosts only, so the mock and the vendor it calls back share one pod (one
loopback interface). The scripts the manifests embed (the vendor's postStart subscription, the master's wait for
the stack) are run here for real against a mock on this machine, as the pod runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ground.net import free_port, is_loopback
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


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = doc["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def test_every_image_is_the_local_one_and_never_pulled() -> None:
    containers = [container for doc in _documents() if doc["kind"] in WORKLOADS for container in _containers(doc)]
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


def _by_name(kind: str, name: str) -> dict[str, Any]:
    return next(doc for doc in _documents() if doc["kind"] == kind and doc["metadata"]["name"] == name)


def _container(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(container for container in _containers(doc) if container["name"] == name)


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def _option(command: list[str], name: str, env: dict[str, str]) -> str:
    value = command[command.index(name) + 1]
    for key, replacement in env.items():  # Kubernetes expands $(NAME) from the container's env in commands
        value = value.replace(f"$({key})", replacement)
    return value


def test_the_mock_and_the_vendor_it_calls_back_share_one_pod_and_talk_over_its_loopback() -> None:
    pod = _by_name("Deployment", "mock-vendor")
    assert pod["spec"]["replicas"] == 1  # the mock's ledger and the subscription live in that one pod
    mock, vendor = _container(pod, "mock"), _container(pod, "vendor")
    assert mock["command"][2:5] == ["harness.cli", "mock", "serve"]
    assert vendor["command"][2:6] == ["harness.cli", "vendor", "serve", "reference"]
    env = _env(vendor)
    whatsapp_url = _option(vendor["command"], "--whatsapp-url", env)
    assert whatsapp_url == env["MOCK_URL"] == f"http://127.0.0.1:{_option(mock['command'], '--port', {})}"
    assert env["VENDOR_URL"] == f"http://127.0.0.1:{_option(vendor['command'], '--port', {})}"
    assert all(is_loopback(httpx.URL(env[name]).host) for name in ("MOCK_URL", "VENDOR_URL"))
    # The load reaches both through their Services, which select that pod; the profile names those Services.
    for service in ("mock", "vendor-steady"):
        assert _by_name("Service", service)["spec"]["selector"] == {"app": "mock-vendor"}
    profile = yaml.safe_load(_by_name("ConfigMap", "vendor-profile")["data"]["vendor.yaml"])
    assert (
        profile["base_url"] == "http://vendor-steady:8910" and profile["capabilities"]["mock_url"] == "http://mock:8900"
    )
    # Locust's master binds loopback through the locustfile unless told: workers in other pods must reach it.
    master = _container(_by_name("Job", "locust-master"), "master")
    assert not is_loopback(_option(master["command"], "--master-bind-host", {}))


def _run_embedded(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A manifest's ``python -c SCRIPT`` as the pod runs it, with this interpreter and this checkout."""
    assert command[:2] == ["python", "-c"]
    return subprocess.run(
        [sys.executable, *command[1:]],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_vendors_poststart_hook_subscribes_it_at_the_mock_and_the_mock_takes_only_loopback(
    mock_server: Any,
) -> None:
    vendor = _container(_by_name("Deployment", "mock-vendor"), "vendor")
    hook = vendor["lifecycle"]["postStart"]["exec"]["command"]
    receiver = f"http://127.0.0.1:{free_port()}"
    done = _run_embedded(hook, {"MOCK_URL": mock_server.base_url, "VENDOR_URL": receiver})
    assert done.returncode == 0, done.stderr[-2000:]
    listed = httpx.get(f"{mock_server.base_url}/_mock/subscriptions", headers=mock_server.admin_headers, timeout=10)
    assert listed.status_code == 200, listed.text
    assert f"{receiver}/webhooks/whatsapp" in listed.text
    # What the previous README had users subscribe (the vendor's Service): the mock refuses it, the hook fails.
    refused = _run_embedded(hook, {"MOCK_URL": mock_server.base_url, "VENDOR_URL": "http://vendor-steady:8910"})
    assert refused.returncode != 0, refused.stderr[-2000:]
    assert "refused" in refused.stderr and "callback_url" in refused.stderr, refused.stderr[-2000:]
    listed = httpx.get(f"{mock_server.base_url}/_mock/subscriptions", headers=mock_server.admin_headers, timeout=10)
    assert "vendor-steady" not in listed.text


def test_the_masters_init_container_waits_for_the_stack_and_gives_up_in_bounded_time(mock_server: Any) -> None:
    wait = _container(_by_name("Job", "locust-master"), "wait-for-stack")
    assert {"http://mock:8900/_mock/health", "http://vendor-steady:8910/health"} == set(_env(wait)["WAIT_FOR"].split())
    answered = _run_embedded(wait["command"], {"WAIT_FOR": f"{mock_server.base_url}/_mock/health", "WAIT_S": "30"})
    assert answered.returncode == 0, answered.stderr[-2000:]
    closed = f"http://127.0.0.1:{free_port()}/health"
    gave_up = _run_embedded(wait["command"], {"WAIT_FOR": closed, "WAIT_S": "0"})
    assert gave_up.returncode != 0 and closed in gave_up.stderr
