"""Many numbers in a vendor profile: ``phone_number_range`` expands after the listed numbers, weights set the
spread, the shipped 50-number profile loads, and every bad value is refused at the edge (file, field, value, fix;
exit 2 from the CLI)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.errors import ConfigError
from harness.adapters.registry import load_profile
from harness.cli import main
from harness.stack.services import run_mock_config
from plan.numbers import MAX_NUMBERS
from tests.fixtures.vendors import MINIMAL_PROFILE

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
BASE = MINIMAL_PROFILE


def write(tmp_path: Path, **changes: Any) -> Path:
    data = copy.deepcopy(BASE)
    data.update(changes)
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_shipped_50_number_profile_lists_every_number_once_with_its_id() -> None:
    profile = load_profile(VENDORS / "reference-many-numbers.yaml")
    numbers = profile.business_numbers()
    assert len(numbers) == 50
    assert [n.number for n in numbers[:3]] == ["+15550000001", "+15550000002", "+15550000003"]
    assert numbers[-1].id == "100000000000050" and len({n.id for n in numbers}) == 50
    # The run's mock is configured with all 50, so it paces and ledgers each one.
    mock_ids = [entry["id"] for entry in run_mock_config(3, None, profile)["phone_numbers"]]
    assert sorted(mock_ids) == sorted(n.id for n in numbers)


def test_a_range_without_ids_uses_each_numbers_digits_and_carries_its_weight(tmp_path: Path) -> None:
    path = write(tmp_path, phone_number_range={"first": "+4915100000100", "count": 3, "weight": 2, "label": "de-"})
    profile = load_profile(path)
    extra = profile.all_numbers[1:]
    assert [(n.number, n.label, n.weight) for n in extra] == [
        ("+4915100000100", "de-1", 2),
        ("+4915100000101", "de-2", 2),
        ("+4915100000102", "de-3", 2),
    ]
    assert [n.id for n in profile.business_numbers()[1:]] == ["4915100000100", "4915100000101", "4915100000102"]
    assert profile.phone.number == "+15550000001"  # the first number is still the listed one


def test_one_number_profiles_leave_the_mock_config_as_it_was() -> None:
    profile = load_profile(VENDORS / "reference-steady.yaml")
    assert "phone_numbers" not in run_mock_config(3, None, profile)
    twilio = load_profile(VENDORS / "twilio-facade.yaml")  # no id: the facade sends from the mock's default
    assert "phone_numbers" not in run_mock_config(3, None, twilio)


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("count zero", {"phone_number_range": {"first": "+15550000100", "count": 0}}, "phone_number_range.count", "0"),
    (
        "count above the bound",
        {"phone_number_range": {"first": "+15550000100", "count": MAX_NUMBERS + 1}},
        "phone_number_range.count",
        str(MAX_NUMBERS + 1),
    ),
    (
        "range past the last digit",
        {"phone_number_range": {"first": "+99999990", "count": 20}},
        "phone_number_range",
        "99999990",
    ),
    (
        "first not a number",
        {"phone_number_range": {"first": "+1555-CALL", "count": 2}},
        "phone_number_range.first",
        "CALL",
    ),
    (
        "id with letters",
        {"phone_number_range": {"first": "+15550000100", "first_id": "abc", "count": 2}},
        "phone_number_range.first_id",
        "abc",
    ),
    (
        "range repeats a listed number",
        {"phone_number_range": {"first": "+15550000001", "first_id": "900", "count": 2}},
        "phone_number_range",
        "15550000001",
    ),
    (
        "range repeats a listed id",
        {"phone_number_range": {"first": "+15550000100", "first_id": "100000000000001", "count": 2}},
        "phone_number_range",
        "100000000000001",
    ),
    (
        "listed and range above the bound",
        {"phone_number_range": {"first": "+15550000100", "count": MAX_NUMBERS}},
        "phone_number_range",
        str(MAX_NUMBERS),
    ),
    (
        "a number listed twice",
        {"phone_numbers": [{"number": "+15550000001"}, {"number": "15550000001", "id": "7"}]},
        "phone_numbers",
        "15550000001",
    ),
    ("weight zero", {"phone_numbers": [{"number": "+15550000001", "weight": 0}]}, "phone_numbers.0.weight", "0"),
    ("unknown spread", {"number_spread": "random"}, "number_spread", "random"),
    (
        "range unknown key",
        {"phone_number_range": {"first": "+15550000100", "count": 2, "step": 2}},
        "phone_number_range.step",
        "2",
    ),
]


@pytest.mark.parametrize(("case", "changes", "field", "value"), BAD, ids=[case[0] for case in BAD])
def test_bad_numbers_are_refused_with_file_field_value_and_fix(tmp_path, case, changes, field, value) -> None:
    path = write(tmp_path, **changes)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    error, text = caught.value, str(caught.value)
    assert str(path) in text and error.field == field, (error.field, text)
    assert value in text and "Fix:" in text and "Traceback" not in text, text


def test_the_cli_refuses_a_bad_range_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, phone_number_range={"first": "+15550000100", "count": 0})
    assert main(["vendors", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "phone_number_range.count" in err and "Traceback" not in err
