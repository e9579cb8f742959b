"""``--mock-shards N``: the option's bounds, the mock's numbers, the shard routes, and a sharded mock for real."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
import pytest

from ground.errors import EXIT_BAD_INPUT, ConfigError
from ground.net import free_port_run
from harness.adapters.base import HttpRequest, SendTemplate
from harness.adapters.pooled_executor import PooledExecutor
from harness.adapters.registry import create_adapter, load_profile
from harness.config.profiles import LaunchConfig
from harness.stack.launchers import LaunchContext, launcher_for
from harness.stack.mock import (
    MAX_MOCK_SHARDS,
    check_mock_shards,
    mock_admin_token,
    shard_routes,
    sharded_mock_config,
    start_mock,
)
from harness.stack.services import check_shards_for
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.sharding import owner_index, shard_configs
from mocks.whatsapp.shards import FORWARDED, sender_for

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
MOCK_PROFILE = VENDORS / "cloud-api-mock.yaml"


@pytest.mark.parametrize("value", [0, -1, MAX_MOCK_SHARDS + 1, True, "2", 2.5, None])
def test_a_shard_count_out_of_bounds_names_the_field_the_value_and_the_fix(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        check_mock_shards(value)
    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT
    assert error.field == "mock_shards" and error.value == value
    assert str(MAX_MOCK_SHARDS) in str(error.fix)


@pytest.mark.parametrize("value", [1, 2, MAX_MOCK_SHARDS])
def test_a_shard_count_in_bounds_is_kept(value: int) -> None:
    assert check_mock_shards(value) == value


def test_a_run_adds_one_number_per_shard_after_the_mocks_default() -> None:
    config = sharded_mock_config({"limits": {"enabled": False}}, 3)
    ids = [number["id"] for number in config["phone_numbers"]]
    assert ids == ["100000000000001", "100000000000002", "100000000000003"]
    assert len({number["display_phone_number"] for number in config["phone_numbers"]}) == 3
    assert config["limits"] == {"enabled": False}
    MockConfig.model_validate(config)  # the mock accepts what the run writes
    assert sharded_mock_config({"seed": 1}, 1) == {"seed": 1}  # one process: the config as given


def test_numbers_named_by_the_run_are_kept_and_too_few_are_refused() -> None:
    named = {"phone_numbers": [{"id": "7"}, {"id": "8"}]}
    assert sharded_mock_config(named, 2) is named
    with pytest.raises(ConfigError) as caught:
        sharded_mock_config(named, 3)
    assert caught.value.field == "mock_settings.phone_numbers" and caught.value.value == 2


def test_the_routes_agree_with_the_mocks_own_owner_of_every_number() -> None:
    config = {"phone_numbers": [{"id": str(100 + k)} for k in range(5)]}
    routes = shard_routes(config, 3, 9100)
    shards = shard_configs(MockConfig.model_validate({**config, "port": 9100}), 3)
    for number, url in routes.items():
        owner = owner_index(shards[0], number)
        assert url == f"http://127.0.0.1:{9100 + owner}"
    assert sorted(set(routes.values())) == [f"http://127.0.0.1:{9100 + k}" for k in range(3)]
    assert shard_routes(config, 1, 9100) == {}


def test_only_a_mock_the_run_starts_can_be_sharded() -> None:
    check_shards_for(load_profile(MOCK_PROFILE), 2)
    steady = load_profile(VENDORS / "reference-steady.yaml")
    check_shards_for(steady, 2)
    running = steady.model_copy(update={"launch": LaunchConfig(kind="none")})
    check_shards_for(running, 1)  # one process: nothing to check
    with pytest.raises(ConfigError) as caught:
        check_shards_for(running, 2, source="p.yaml")
    assert caught.value.field == "launch.kind" and caught.value.source == "p.yaml"


def test_a_mock_target_without_the_number_in_its_paths_cannot_be_sharded() -> None:
    profile = load_profile(MOCK_PROFILE)
    dialed = profile.model_copy(update={"options": {**profile.options, "dialect": "360dialog"}})
    with pytest.raises(ConfigError) as caught:
        check_shards_for(dialed, 2)
    assert caught.value.field == "adapter" and "360dialog" in str(caught.value.value)
    with pytest.raises(ConfigError) as caught:
        check_shards_for(load_profile(VENDORS / "generic-http-example.yaml"), 2)  # launch.kind mock, generic paths
    assert caught.value.field == "adapter" and "generic" in str(caught.value.value)


def test_consecutive_free_ports_are_found() -> None:
    base = free_port_run(3)
    for port in range(base, base + 3):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_the_mock_target_profile_spreads_its_sends_over_every_shards_numbers(tmp_path: Path) -> None:
    profile = load_profile(MOCK_PROFILE)
    with ExitStack() as stack:
        context = LaunchContext(workdir=tmp_path, stack=stack, mock_config={}, mock_shards=2)
        launched = launcher_for(profile).start(profile, context)
        assert sorted(launched.load_routes) == ["100000000000001", "100000000000002"]
        assert launched.profile.options["numbers"] == "by_recipient"
        adapter = create_adapter(launched.profile)
        recipients = [f"4915100000{k:03d}" for k in range(40)]
        paths = {to: adapter.build(SendTemplate(to=to, template="hello")).path for to in recipients}
        used = {path.split("/")[2] for path in paths.values()}
        assert used == set(launched.load_routes)  # both numbers, so both shards, carry the load
        for to, path in paths.items():
            assert path.split("/")[2] == sender_for(to, tuple(sorted(launched.load_routes)))
        # Every shard answers, and the base port's control plane speaks for both.
        for url in set(launched.load_routes.values()):
            assert httpx.get(f"{url}/_mock/health", timeout=5).status_code == 200


def test_each_number_goes_straight_to_its_shard_and_the_ledger_merges_them(tmp_path: Path) -> None:
    config = sharded_mock_config({"limits": {"enabled": False, "enforce_customer_window": False}}, 2)
    base_port = free_port_run(2)
    routes = shard_routes(config, 2, base_port)
    with ExitStack() as stack:
        base, _service = start_mock(
            stack, base_port, config, config_path=tmp_path / "mock.yaml", log_path=tmp_path / "mock.log", shards=2
        )
        executor = PooledExecutor(None, base_url=base, routes=routes, concurrency=2)
        stack.callback(executor.close)
        adapter = create_adapter(load_profile(MOCK_PROFILE))
        for number in routes:
            body = orjson.dumps(
                {"messaging_product": "whatsapp", "to": "4915100000001", "type": "template",
                 "template": {"name": "hello", "language": {"code": "en_US"}}}
            )  # fmt: skip
            headers = {
                "Authorization": "Bearer mock-access-token",
                "Content-Type": "application/json",
                # A shard refuses a request marked forwarded for a number it does not own (131000): the mark
                # makes a wrong route fail instead of taking the extra hop.
                FORWARDED: "1",
            }
            request = HttpRequest("send_template", "POST", f"/v23.0/{number}/messages", headers, body)
            outcome = executor.execute(adapter, request)
            assert outcome.ok, outcome
        admin = {"Authorization": f"Bearer {mock_admin_token()}"}
        answer = httpx.get(f"{base}/_mock/ledger", headers=admin, timeout=10)
        rows = [orjson.loads(line) for line in answer.content.splitlines() if line]
        assert sorted(row["phone_number_id"] for row in rows) == sorted(routes)
