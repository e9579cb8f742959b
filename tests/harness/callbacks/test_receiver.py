"""The run's callback receiver on a real loopback socket: what it records, and every callback it must refuse.

Forged and unsigned callbacks are refused (401) and counted, never recorded; malformed bodies get 400 and a
count; a flood past the configured rate is shed with 429 (a fake clock holds the token bucket still, so the
shed count is exact); a POST off the run's secret path is 404. The shards the receiver flushed fold into
``vendor_events.parquet``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyarrow.parquet as pq
import pytest

from ground.clock import FakeClock
from ground.records import VENDOR_EVENT_SCHEMA
from harness.callbacks.dialects import create_dialect, hmac_sha256_header
from harness.callbacks.receiver import (
    EVENTS_DIR,
    EVENTS_FILE,
    CallbackHandler,
    CallbackReceiver,
    merge_vendor_events,
    read_vendor_events,
)
from harness.recorder import ShardSink
from mocks.facades.twilio_callbacks import twilio_signature

TOKEN = "twilio-auth-token"


def _receiver(run_dir: Path, *, dialect: str = "twilio", secret: str = TOKEN, burst: int = 1000):
    clock = FakeClock()
    sink = ShardSink(run_dir / EVENTS_DIR, "callbacks", schema=VENDOR_EVENT_SCHEMA)
    sock = CallbackReceiver.bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    handler = CallbackHandler(create_dialect(dialect, {}), secret, sink, base, max_per_s=1.0, burst=burst, clock=clock)
    return CallbackReceiver(handler).start(sock), sink


def _twilio_post(client: httpx.Client, url: str, params: dict[str, str], *, key: str = TOKEN, sign: bool = True):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(key, url, params)
    return client.post(url, content=urlencode(params), headers=headers)


STATUS = {"MessageSid": "SM1", "MessageStatus": "delivered", "To": "whatsapp:+4915112345678"}


@pytest.fixture
def client():
    with httpx.Client(trust_env=False, timeout=5) as http:
        yield http


def test_signed_callbacks_are_recorded_and_forged_unsigned_or_malformed_ones_are_refused_and_counted(
    tmp_path: Path, client: httpx.Client
) -> None:
    receiver, sink = _receiver(tmp_path)
    url = receiver.handler.url
    try:
        answers = [
            _twilio_post(client, url, STATUS).status_code,
            _twilio_post(client, url, {**STATUS, "MessageStatus": "read"}).status_code,
            _twilio_post(client, url, STATUS, key="a-guessed-token").status_code,  # forged
            _twilio_post(client, url, STATUS, sign=False).status_code,  # unsigned
            _twilio_post(client, url, {"MessageStatus": "sent"}).status_code,  # signed, but no MessageSid
            client.post(url.rsplit("/", 1)[0] + "/guessed", content=b"x").status_code,  # off the secret path
        ]
    finally:
        receiver.stop()
    sink.close()

    assert answers == [200, 200, 401, 401, 400, 404]
    stats = receiver.handler.stats
    assert (stats.accepted, stats.refused, stats.malformed, stats.wrong_path, stats.shed) == (2, 2, 1, 1, 0)
    merge_vendor_events(tmp_path)
    assert not (tmp_path / EVENTS_DIR).exists()
    events = pq.read_table(tmp_path / EVENTS_FILE).to_pandas()
    assert list(zip(events["vendor_message_id"], events["status"], strict=True)) == [
        ("SM1", "delivered"),
        ("SM1", "read"),
    ]


def test_a_flood_past_the_rate_is_shed_with_429_counted_and_named_in_the_manifest_section(
    tmp_path: Path, client: httpx.Client
) -> None:
    receiver, sink = _receiver(tmp_path, burst=5)  # 5 saved up, 1/s, and the fake clock never moves
    url = receiver.handler.url
    try:
        codes = [_twilio_post(client, url, {**STATUS, "MessageSid": f"SM{i}"}).status_code for i in range(12)]
    finally:
        receiver.stop()
    sink.close()

    assert codes == [200] * 5 + [429] * 7
    section = receiver.handler.manifest_section("twilio", None)
    assert (section["shed"], section["accepted"], section["max_per_s"], section["burst"]) == (7, 5, 1.0, 5)
    assert receiver.handler.path_secret not in str(section)  # the secret path never reaches the results
    assert read_vendor_events(tmp_path).num_rows == 5


def test_cloud_api_callbacks_are_checked_with_the_hub_signature_and_bad_json_is_400(
    tmp_path: Path, client: httpx.Client
) -> None:
    receiver, sink = _receiver(tmp_path, dialect="cloud-api", secret="app-secret")
    url = receiver.handler.url
    value = {"statuses": [{"id": "wamid.A", "status": "read", "timestamp": "1800000000"}]}
    body = httpx.Request("POST", url, json={"entry": [{"changes": [{"value": value}]}]}).read()
    try:
        good = client.post(url, content=body, headers={"X-Hub-Signature-256": hmac_sha256_header("app-secret", body)})
        forged = client.post(url, content=body, headers={"X-Hub-Signature-256": hmac_sha256_header("guess", body)})
        broken = client.post(
            url, content=b"{oops", headers={"X-Hub-Signature-256": hmac_sha256_header("app-secret", b"{oops")}
        )
        challenge = client.get(url, params={"hub.mode": "subscribe", "hub.challenge": "42"})
    finally:
        receiver.stop()
    sink.close()

    assert (good.status_code, forged.status_code, broken.status_code) == (200, 401, 400)
    assert challenge.text == "42"
    stats = receiver.handler.stats
    assert (stats.accepted, stats.refused, stats.malformed) == (1, 1, 1)
    assert read_vendor_events(tmp_path).to_pandas()["status"].tolist() == ["read"]
