"""Named throughput levels (``limits.throughput: coexistence | standard | high``) in config and on the control plane."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ground.clock import FakeClock
from ground.errors import ConfigError
from harness.commands.mock import load_config
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import THROUGHPUT_PRESETS, LimitsConfig, MockConfig
from tests.mocks.whatsapp.helpers import ADMIN, PNID, SEND, error_of, template


@pytest.mark.parametrize(("preset", "rate"), sorted(THROUGHPUT_PRESETS.items()))
def test_a_preset_sets_the_rate(preset: str, rate: float, tmp_path: Path) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text(f"limits: {{throughput: {preset}}}\n")
    limits = load_config(path, None, None).limits
    assert (limits.throughput, limits.throughput_per_second) == (preset, rate)
    agreeing = LimitsConfig.model_validate({"throughput": preset, "throughput_per_second": rate})
    assert agreeing.throughput_per_second == rate


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("limits: {throughput: high, throughput_per_second: 80}\n", ("'high' means 1000", "set only one")),
        ("limits: {throughput: turbo}\n", ("limits.throughput", "coexistence")),
        ("limits: {throughput: [high]}\n", ("limits.throughput", "coexistence")),  # a list, not a name
        ("limits: {throughput: {high: 1}}\n", ("limits.throughput", "coexistence")),
    ],
)
def test_bad_presets_name_the_field_and_the_fix(text: str, words: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "mock.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, None, None)
    message = str(caught.value)
    assert str(path) in message and "limits" in message and all(word in message for word in words)


@pytest.mark.anyio
async def test_coexistence_preset_enforces_20_per_second_and_patch_switches_levels(fake_clock: FakeClock) -> None:
    config = MockConfig(limits=LimitsConfig(throughput="coexistence", tier="unlimited"))
    app = create_app(config, clock=fake_clock, plugins=[])
    graph = {"Authorization": "Bearer mock-access-token"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m", headers=graph) as c:
        codes = [(await c.post(SEND, json=template(to=f"49151{i:07d}"))).status_code for i in range(21)]
        assert codes == [200] * 20 + [400]
        assert error_of(await c.post(SEND, json=template(to="4915100000099")))["code"] == 130429
        assert (await c.get(f"/v22.0/{PNID}")).json()["throughput"] == {"level": "STANDARD"}

        high = (await c.patch("/_mock/limits", json={"throughput": "high"}, headers=ADMIN)).json()
        assert (high["throughput"], high["throughput_per_second"]) == ("high", 1000.0)
        assert (await c.get(f"/v22.0/{PNID}")).json()["throughput"] == {"level": "HIGH"}
        number = (await c.patch("/_mock/limits", json={"throughput_per_second": 50}, headers=ADMIN)).json()
        assert (number["throughput"], number["throughput_per_second"]) == (None, 50.0)
        clash = await c.patch(
            "/_mock/limits", json={"throughput": "standard", "throughput_per_second": 5}, headers=ADMIN
        )
        assert clash.status_code == 400 and "set only one" in clash.text
        assert (await c.get("/_mock/limits", headers=ADMIN)).json()["throughput_per_second"] == 50.0
