"""Start on loopback what a profile's ``launch`` section names, for ``vendors check --launch`` and tests.

The same launchers as a run (``harness.stack.launchers``), with a contract check's settings: the mock's limiters
relaxed (a contract check is about the dialect, not about Meta's 24-hour window or pair rate), the reference
vendor seeded with a few conversations so ``assign_conversation`` has something to assign, no webhook
subscription. The result is the *effective* profile, whose ``base_url`` and ``mock_url`` point at what was started.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ground.errors import ConfigError
from ground.net import free_port
from harness.config.profiles import VendorProfile
from harness.stack.launchers import LaunchContext, launcher_for, start_facade
from harness.stack.mock import start_mock as _start_mock

MOCK_OVERRIDES = {"limits": {"enforce_customer_window": False, "pair_burst": 1000}}
SEEDED_CONVERSATIONS = 3


def start_mock(workdir: Path, stack: ExitStack) -> str:
    """The mock alone on a free port with a check's relaxed limits (the bake-off's shared mock); its base URL."""
    base_url, _service = _start_mock(
        stack, free_port(), MOCK_OVERRIDES, config_path=workdir / "mock.yaml", log_path=workdir / "mock.log"
    )
    return base_url


@contextmanager
def local_stack(profile: VendorProfile, workdir: Path) -> Iterator[VendorProfile]:
    """Start the mock and the profile's local vendor; yield the effective profile; stop everything after."""
    launcher = launcher_for(profile)
    if not launcher.starts_anything:
        raise ConfigError(
            "the profile does not say what to start",
            field="launch.kind",
            value=profile.launch.kind,
            fix="set launch.kind to reference, ha-pair, container, facade or mock, or start the vendor yourself and "
            "drop --launch",
        )
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        context = LaunchContext(
            workdir=workdir,
            stack=stack,
            mock_config=MOCK_OVERRIDES,
            mock_config_name="mock.yaml",
            log_dir=workdir,
            seed_conversations=SEEDED_CONVERSATIONS,
            subscribe=False,
        )
        yield launcher.start(profile, context).profile


__all__ = ["MOCK_OVERRIDES", "local_stack", "start_facade", "start_mock"]
