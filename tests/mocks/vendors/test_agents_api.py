"""The reference vendor's agent routes (docs/contracts.md): presence, inbox, reply, close, the assignment log."""

from __future__ import annotations

from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.test_webhooks import envelope, inbound, post


def test_an_online_agent_gets_new_conversations_in_its_inbox_and_replies_through_graph(in_process_vendor):
    vendor = in_process_vendor()
    online = vendor.post("/api/agents/ana/online", {"skills": ["sales"], "cap": 3})
    assert online.status_code == 200 and online.json()["cap"] == 3
    post(vendor, envelope([inbound("wamid.A1", "4915100000001", "Where is my order? sb-abc123-1z")]))
    items = wait_until(lambda: vendor.get("/api/agents/ana/inbox", since="").json()["items"], what="an assignment")
    item = items[0]
    assert item["wa_id"] == "4915100000001" and "sb-abc123-1z" in item["text"]
    assert item["assigned_at"] >= item["arrived_at"]
    cursor = vendor.get("/api/agents/ana/inbox", since="").json()["cursor"]
    assert vendor.get("/api/agents/ana/inbox", since=cursor).json()["items"] == []

    reply = vendor.post(f"/api/conversations/{item['conversation_id']}/reply", {"agent": "ana", "text": "On its way"})
    assert reply.status_code == 202
    wait_until(lambda: any(s["text"]["body"] == "On its way" for s in vendor.graph.sent if s.get("type") == "text"))
    closed = vendor.post(f"/api/conversations/{item['conversation_id']}/close", {"agent": "ana"})
    assert closed.json() == {"id": item["conversation_id"], "closed": True}
    log = vendor.get("/_vendor/assignments", since="0").json()
    assert [row["agent"] for row in log["items"]] == ["ana"] and log["queue_length"] == 0


def test_seats_answer_409_and_unknown_things_404(in_process_vendor):
    vendor = in_process_vendor("understaffed")
    assert vendor.post("/api/agents/a/online", {}).status_code == 200
    assert vendor.post("/api/agents/b/online", {}).status_code == 200
    third = vendor.post("/api/agents/c/online", {})
    assert third.status_code == 409 and third.json()["error"]["code"] == "no_seat"
    assert vendor.post("/api/agents/nobody/offline", {}).status_code == 404
    assert vendor.post("/api/conversations/999/reply", {"agent": "a", "text": "x"}).status_code == 404
    assert vendor.get("/api/agents/a/inbox", since="not-a-cursor").status_code == 400


def test_a_full_desk_queues_until_a_close_frees_a_slot(in_process_vendor):
    vendor = in_process_vendor(agent_cap=1)
    vendor.post("/api/agents/solo/online", {})
    post(vendor, envelope([inbound("wamid.Q1", "4915100000001", "hi")]))
    first = wait_until(lambda: vendor.get("/api/agents/solo/inbox").json()["items"])[0]
    post(vendor, envelope([inbound("wamid.Q2", "4915100000002", "hi")]))
    wait_until(lambda: vendor.get("/_vendor/assignments").json()["queue_length"] == 1, what="a queued conversation")
    vendor.post(f"/api/conversations/{first['conversation_id']}/close", {"agent": "solo"})
    items = wait_until(lambda: len(vendor.get("/api/agents/solo/inbox").json()["items"]) == 2 and
                       vendor.get("/api/agents/solo/inbox").json()["items"])  # fmt: skip
    assert items[1]["wa_id"] == "4915100000002" and items[1]["waited_s"] > 0
