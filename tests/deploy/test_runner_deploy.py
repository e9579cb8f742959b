"""The deploy files describe a distributed run that matches the code: services, options, host networking."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.loadgen.options import add_arguments

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


class _Recorder:
    def __init__(self) -> None:
        self.flags: set[str] = set()

    def add_argument(self, *names: str, **_: object) -> None:
        self.flags.update(names)

    def set_defaults(self, **_: object) -> None:  # Locust's own listening addresses (loopback by default)
        pass


def _scrmbench_flags(command: list[str]) -> set[str]:
    return {part for part in command if part.startswith("--")}


def test_compose_has_master_scalable_workers_mock_and_vendors_on_host_networking() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"mock", "vendor-steady", "locust-master", "locust-worker"} <= set(services)
    anchor = compose["x-scrmbench"]
    assert anchor["network_mode"] == "host"
    assert "--worker" in services["locust-worker"]["command"]
    assert "--master" in services["locust-master"]["command"]


def test_every_scrmbench_option_in_the_deploy_files_exists() -> None:
    parser = _Recorder()
    add_arguments(parser)
    locust_own = {
        "--master", "--worker", "--headless", "--master-bind-host", "--master-bind-port", "--master-host",
        "--master-port", "--expect-workers", "--stop-timeout", "--host", "--port", "--db", "--profile",
        "--whatsapp-url", "--allow-external", "--allow-non-loopback", "--config",
    }  # fmt: skip
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    commands = [service["command"] for service in compose["services"].values()]
    for document in yaml.safe_load_all((DEPLOY / "kubernetes" / "scrmbench.yaml").read_text()):
        if document["kind"] in {"Deployment", "Job"}:
            pod = document["spec"]["template"]["spec"]
            commands += [c["command"] for c in [*pod.get("initContainers", []), *pod["containers"]]]
    for command in commands:
        unknown = _scrmbench_flags(command) - parser.flags - locust_own
        assert not unknown, (command, unknown)


def test_kubernetes_images_are_never_pulled() -> None:
    for document in yaml.safe_load_all((DEPLOY / "kubernetes" / "scrmbench.yaml").read_text()):
        if document["kind"] in {"Deployment", "Job"}:
            pod = document["spec"]["template"]["spec"]
            for container in [*pod.get("initContainers", []), *pod["containers"]]:
                assert container["imagePullPolicy"] == "Never"
