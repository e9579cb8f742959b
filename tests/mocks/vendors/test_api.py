"""The reference vendor's REST API against the contract table (docs/contracts.md)."""

from __future__ import annotations

from starlette.routing import Route

from mocks.vendors.app import create_vendor_app
from mocks.vendors.openapi import openapi_document
from mocks.vendors.settings import VendorSettings
from tests.mocks.vendors.conftest import API_HEADERS, wait_until


def test_health_answers_without_auth_and_names_the_profile(in_process_vendor):
    vendor = in_process_vendor("degrading")
    response = vendor.client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["profile"] == "degrading"


def test_api_routes_need_the_api_key(in_process_vendor):
    vendor = in_process_vendor()
    response = vendor.client.post("/api/messages", json={"to": "4915100000001", "text": "hi"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    wrong = vendor.client.get("/api/conversations", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_send_text_is_queued_then_sent_through_graph_with_the_token_unchanged(in_process_vendor):
    vendor = in_process_vendor()
    response = vendor.post("/api/messages", {"to": "+4915100000001", "text": "order sb-abc123-1z ready"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["id"].startswith("msg_")
    sent = wait_until(lambda: vendor.message(body["id"])["status"] == "sent" and vendor.message(body["id"]))
    assert sent["wamid"] == vendor.graph.sent[0]["_wamid"]
    graph_call = vendor.graph.sent[0]
    assert graph_call["to"] == "4915100000001"
    assert graph_call["text"]["body"] == "order sb-abc123-1z ready"
    assert graph_call["messaging_product"] == "whatsapp"
    assert graph_call["_auth"] == "Bearer mock-access-token"


def test_template_params_and_media_captions_reach_graph(in_process_vendor):
    vendor = in_process_vendor()
    template = vendor.post(
        "/api/messages/template",
        {"to": "4915100000002", "template": "promo", "language": "de_DE", "params": ["sb-abc123-2"]},
    )
    media = vendor.post(
        "/api/messages/media",
        {"to": "4915100000003", "kind": "image", "link": "https://cdn.example/a.jpg", "caption": "sb-abc123-3"},
    )
    assert template.status_code == 202 and media.status_code == 202
    wait_until(lambda: len(vendor.graph.sent) == 2)
    by_type = {item["type"]: item for item in vendor.graph.sent}
    assert by_type["template"]["template"]["language"] == {"code": "de_DE"}
    assert by_type["template"]["template"]["components"][0]["parameters"] == [{"type": "text", "text": "sb-abc123-2"}]
    assert by_type["image"]["image"] == {"link": "https://cdn.example/a.jpg", "caption": "sb-abc123-3"}


def test_bad_bodies_get_the_error_envelope(in_process_vendor):
    vendor = in_process_vendor()
    cases = [
        vendor.client.post("/api/messages", content=b"{not json", headers=API_HEADERS),
        vendor.post("/api/messages", {"to": "abc", "text": "hi"}),
        vendor.post("/api/messages", {"to": "4915100000001", "text": ""}),
        vendor.post("/api/messages/media", {"to": "4915100000001", "kind": "image"}),
        vendor.post("/api/messages/media", {"to": "4915100000001", "kind": "image", "media_id": "1", "link": "x"}),
        vendor.get("/api/conversations", limit="many"),
    ]
    for response in cases:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_request"
    missing = vendor.get("/api/messages/msg_nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_media_upload_is_forwarded_and_returns_the_graph_media_id(in_process_vendor):
    vendor = in_process_vendor()
    response = vendor.client.post(
        "/api/media", files={"file": ("a.png", b"\x89PNG" + b"0" * 100, "image/png")}, headers=API_HEADERS
    )
    assert response.status_code == 201
    assert response.json()["media_id"] == vendor.graph.uploads[0]["id"]
    assert vendor.graph.uploads[0]["size"] == 104


def test_conversations_full_text_search_assign_and_tags(in_process_vendor):
    vendor = in_process_vendor()
    vendor.post("/api/messages", {"to": "4915100000011", "text": "your invoice for the blue jacket"})
    vendor.post("/api/messages", {"to": "4915100000012", "text": "the red shoes are back"})
    found = vendor.get("/api/conversations", q="jacket").json()
    assert found["total"] == 1 and found["items"][0]["wa_id"] == "4915100000011"
    # FTS5 syntax in user text is matched literally, never parsed.
    assert vendor.get("/api/conversations", q='"jacket OR (').json()["total"] == 0
    assert vendor.get("/api/conversations").json()["total"] == 2
    conversation_id = found["items"][0]["id"]
    assigned = vendor.post(f"/api/conversations/{conversation_id}/assign", {"agent": "dora"})
    assert assigned.status_code == 200 and assigned.json() == {"id": conversation_id, "agent": "dora"}
    assert vendor.post("/api/conversations/999999/assign", {"agent": "dora"}).status_code == 404
    tags = vendor.post("/api/contacts/4915100000011/tags", {"tag": "vip"})
    assert tags.status_code == 200 and tags.json()["tags"] == ["vip"]


def test_broadcast_runs_as_a_job_whose_progress_can_be_polled(in_process_vendor):
    vendor = in_process_vendor()
    for index in range(5):
        vendor.post(f"/api/contacts/49151000001{index:02d}/tags", {"tag": "black-friday"})
    vendor.post("/api/contacts/4915100000999/tags", {"tag": "other"})
    started = vendor.post("/api/broadcasts", {"template": "bf_sale", "tag": "black-friday", "params": ["sb-abc123-9"]})
    assert started.status_code == 202 and started.json()["total"] == 5
    broadcast_id = started.json()["id"]
    done = wait_until(lambda: (p := vendor.get(f"/api/broadcasts/{broadcast_id}").json())["done"] and p)
    assert done == {"id": broadcast_id, "total": 5, "sent": 5, "failed": 0, "done": True}
    assert sorted(item["to"] for item in vendor.graph.sent) == [f"49151000001{i:02d}" for i in range(5)]
    assert vendor.get("/api/broadcasts/bc_nope").status_code == 404


def test_openapi_document_lists_exactly_the_public_routes():
    app = create_vendor_app(VendorSettings(db_path=":memory:"))
    routes = {route.path for route in app.routes if isinstance(route, Route)}
    public = {path for path in routes if not path.startswith(("/_vendor", "/openapi"))}
    assert set(openapi_document()["paths"]) == public
