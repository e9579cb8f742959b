"""`vendors check`: a declared operation the check could not call is "not exercised" (with the reason), never
counted as passed, and the check's exit status says so; given a conversation id, assign_conversation is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.adapters.base import Adapter, HttpRequest, Outcome
from harness.adapters.executors import VendorClient, connect
from harness.adapters.registry import create_adapter, load_profile
from harness.config.profiles import VendorProfile
from harness.smoke import NOT_EXERCISED, smoke_test

VENDORS = Path(__file__).resolve().parents[2] / "vendors"
ALL = ["send_text", "send_template", "send_media", "upload_media", "search_conversations", "assign_conversation"]


class CannedExecutor:
    """Answers every request ok, except search, which answers ``search`` (its items) or fails."""

    def __init__(self, search: list[dict[str, Any]] | None) -> None:
        self.search = search
        self.requests: list[HttpRequest] = []

    def execute(self, adapter: Adapter, request: HttpRequest, context: Mapping[str, Any] | None = None) -> Outcome:
        self.requests.append(request)
        if request.operation == "search_conversations":
            if self.search is None:
                return Outcome(request.operation, "failed", 400, "http", "bad_query", "no")
            return Outcome(request.operation, "ok", 200, data={"items": self.search, "total": len(self.search)})
        return Outcome(request.operation, "ok", 200, data={"media_id": "m-1"})


def _client(operations: list[str], executor: CannedExecutor) -> VendorClient:
    profile = load_profile(VENDORS / "reference-steady.yaml")
    capabilities = profile.capabilities.model_copy(update={"operations": [*operations, "health"]})
    profile = profile.model_copy(update={"capabilities": capabilities})
    return VendorClient(create_adapter(profile), executor, base_url=profile.base_url)


@pytest.mark.parametrize(
    ("operations", "search", "reason"),
    [
        ([o for o in ALL if o != "search_conversations"], [], "search_conversations is not declared"),
        (ALL, [], "search_conversations found no conversation"),
        (ALL, None, "search_conversations failed"),
    ],
)
def test_assign_without_a_conversation_is_not_exercised_and_not_passed(operations, search, reason) -> None:
    executor = CannedExecutor(search)
    rows = {row.operation: row for row in smoke_test(_client(operations, executor), to="+4915112345678")}

    assign = rows["assign_conversation"]
    assert (assign.result, assign.passed, assign.exercised) == (NOT_EXERCISED, False, False)
    assert reason in assign.detail and "--conversation" in assign.detail
    assert "assign_conversation" not in {request.operation for request in executor.requests}


def test_a_given_or_found_conversation_is_assigned() -> None:
    found = CannedExecutor([{"id": "c-found"}])
    rows = smoke_test(_client(ALL, found), to="+4915112345678")
    assert all(row.passed and row.exercised for row in rows)
    assert [r.path for r in found.requests if r.operation == "assign_conversation"] == [
        "/api/conversations/c-found/assign"
    ]

    given = CannedExecutor(None)  # no search declared: the id comes from the caller
    operations = [o for o in ALL if o != "search_conversations"]
    rows = smoke_test(_client(operations, given), to="+4915112345678", conversation_id="c-given")
    assert {row.operation: row.result for row in rows}["assign_conversation"] == "ok"
    assert [r.path for r in given.requests if r.operation == "assign_conversation"] == [
        "/api/conversations/c-given/assign"
    ]


@pytest.mark.slow
def test_vendors_check_exit_status_reflects_an_operation_not_exercised(tmp_path: Path, capsys, monkeypatch) -> None:
    from harness.cli import main
    from harness.stack.local import local_stack

    monkeypatch.setenv("COLUMNS", "400")  # the table's detail column on one line, as on a wide terminal

    # A real (seeded) reference vendor whose profile declares assign but not search.
    with local_stack(load_profile(VENDORS / "reference-steady.yaml"), tmp_path / "stack") as effective:
        conversation = _first_conversation(effective)
        data = effective.model_dump(mode="json")
        data["capabilities"]["operations"] = [
            o for o in data["capabilities"]["operations"] if o != "search_conversations"
        ]
        profile = tmp_path / "no-search.yaml"
        profile.write_text(yaml.safe_dump(data))

        assert main(["vendors", "check", str(profile)]) == 1
        out = capsys.readouterr().out
        assert "not exercised" in out and "search_conversations is not declared" in out
        assert "contract check incomplete" in out and "contract check passed" not in out
        assert "contract check failed" not in out  # nothing the vendor did was wrong

        assert main(["vendors", "check", str(profile), "--conversation", conversation]) == 0
        out = capsys.readouterr().out
        assert "contract check passed" in out and "not exercised" not in out


def _first_conversation(profile: VendorProfile) -> str:
    client = connect(profile)
    outcome = client.search_conversations("", 5)
    assert outcome.ok, outcome
    items = outcome.data.get("items") or []
    assert items, "the seeded reference vendor has conversations"
    return str(items[0]["id"])
