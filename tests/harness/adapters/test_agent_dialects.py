"""The contact-centre calls by dialect: what WATI's API has (operator assignment, contact attributes as tags), sans
I/O; which calls each built-in dialect lacks; and a run against a dialect without agents writing "not measured"
(never zero) into its manifest, with the calls it lacks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import yaml

from ground.errors import ConfigError
from harness.adapters.base import AssignConversation, HttpResponse, TagContact
from harness.adapters.registry import contact_centre_gaps, create_adapter, parse_profile
from harness.run.runner import RunRequest, prepare
from plan.operations import AGENT_NEEDED

VENDORS = Path(__file__).resolve().parents[3] / "vendors"
ENV = {"WATI_API_TOKEN": "wati-token-1234"}


def wati(operations: list[str], **options: str):
    data = yaml.safe_load((VENDORS / "wati-facade.yaml").read_text())
    data["capabilities"]["operations"] = operations
    data["options"] = {**data.get("options", {}), **options}
    return create_adapter(parse_profile(data, source="wati"), environ=ENV)


def test_wati_assigns_an_operator_by_email_to_the_customers_chat() -> None:
    adapter = wati(["assign_conversation"])
    request = adapter.build(AssignConversation("+4915112345678", "ann+desk@example.com"))
    parts = urlsplit(request.path)
    assert (request.method, parts.path) == ("POST", "/api/v1/assignOperator")
    assert parse_qs(parts.query) == {"email": ["ann+desk@example.com"], "whatsappNumber": ["4915112345678"]}
    assert request.headers["Authorization"] == "Bearer wati-token-1234"
    ok = adapter.interpret(request, HttpResponse(200, orjson.dumps({"result": True, "id": "contact-1"})))
    assert ok.ok and ok.vendor_message_id is None  # an answer about a chat, not a message
    refused = adapter.interpret(request, HttpResponse(200, orjson.dumps({"result": False, "info": "no operator"})))
    assert (refused.result, refused.error_code, refused.error_text) == ("failed", "result_false", "no operator")


def test_wati_tags_a_contact_with_the_configured_attribute() -> None:
    adapter = wati(["tag_contact"], tag_attribute="segment")
    request = adapter.build(TagContact("whatsapp:+4915112345678", "vip"))
    assert (request.method, request.path) == ("POST", "/api/v1/updateContactAttributes/4915112345678")
    assert orjson.loads(request.body) == {"customParams": [{"name": "segment", "value": "vip"}]}
    assert adapter.interpret(request, HttpResponse(200, orjson.dumps({"result": "success"}))).ok


@pytest.mark.parametrize("operation", ["agent_online", "agent_inbox", "agent_reply", "broadcast_segment"])
def test_a_wati_profile_declaring_a_call_wati_does_not_have_is_refused(operation: str) -> None:
    with pytest.raises(ConfigError, match=operation):
        wati(["send_text", operation])


def test_a_bad_tag_attribute_is_refused_at_the_edge() -> None:
    with pytest.raises(ConfigError, match="tag_attribute"):
        wati(["tag_contact"], tag_attribute="not an attribute!")


def test_each_built_in_dialect_says_which_contact_centre_calls_it_lacks() -> None:
    def gaps(file: str, operations: list[str] | None = None) -> dict[str, tuple[str, ...]]:
        data = yaml.safe_load((VENDORS / file).read_text())
        if operations is not None:
            data["capabilities"]["operations"] = operations
        return contact_centre_gaps(parse_profile(data, source=file))

    assert gaps("reference-steady.yaml") == {}
    assert gaps("generic-http-contact-center.yaml") == {}
    # A call counts when the profile declares it and the dialect has it (declaring one it lacks is refused above).
    assert gaps("reference-steady.yaml", ["send_text"]) == {
        "agents": AGENT_NEEDED,
        "segment": ("tag_contact", "broadcast_segment"),
    }
    assert gaps("wati-facade.yaml", ["send_text", "tag_contact"]) == {
        "agents": AGENT_NEEDED,
        "segment": ("broadcast_segment",),
    }
    for file in ("twilio-facade.yaml", "360dialog-facade.yaml", "cloud-api-mock.yaml"):
        assert gaps(file) == {"agents": AGENT_NEEDED, "segment": ("tag_contact", "broadcast_segment")}, file


def test_a_contact_center_run_against_a_dialect_without_agents_says_not_measured_and_why(tmp_path: Path) -> None:
    request = RunRequest(
        vendor=VENDORS / "wati-facade.yaml", scenario="contact-center", quick=True, results_root=tmp_path
    )
    _, _, _, manifest = prepare(request)
    assert "agent_online, agent_inbox, agent_reply" in manifest.unmeasured["agents"]
    assert "'wati' dialect" in manifest.unmeasured["agents"] and "not measured" in manifest.unmeasured["agents"]
    assert "did not run" in manifest.unmeasured["segment"]
    steady = prepare(
        RunRequest(
            vendor=VENDORS / "reference-steady.yaml", scenario="contact-center", quick=True, results_root=tmp_path
        )
    )[3]
    assert "agents" not in steady.unmeasured and "segment" not in steady.unmeasured
