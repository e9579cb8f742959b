"""The dialects without I/O: what each builds (paths, auth, bodies, where the token goes) and how each reads
answers (ok / failed / indeterminate, ids, error codes); plus the httpx executor's transport failures."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
import yaml

from harness.adapters.base import (
    Health,
    HttpResponse,
    SearchConversations,
    SendMedia,
    SendTemplate,
    SendText,
    UnsupportedOperation,
    UploadMedia,
    dig,
)
from harness.adapters.executors import HttpxExecutor
from harness.adapters.registry import create_adapter, load_profile, parse_profile
from tests.fixtures.vendors import PROFILE_ENV, SHIPPED_PROFILES

TOKEN = "sb-abc123-1a"


def adapter(file: str):
    return create_adapter(load_profile(SHIPPED_PROFILES / file), environ=PROFILE_ENV)


def test_reference_sends_json_with_bearer_and_the_token_in_text_params_and_caption() -> None:
    ref = adapter("reference-steady.yaml")
    text = ref.build(SendText("+4915112345678", "hi", TOKEN))
    assert (text.method, text.path, text.headers["Authorization"]) == ("POST", "/api/messages", "Bearer ref-key-1234")
    assert orjson.loads(text.body) == {"to": "4915112345678", "text": f"hi {TOKEN}"}
    template = orjson.loads(ref.build(SendTemplate("+49151", "promo", params=("Ada",), correlation_id=TOKEN)).body)
    assert template["params"] == ["Ada", TOKEN]
    media = orjson.loads(ref.build(SendMedia("+49151", media_id="77", caption="menu", correlation_id=TOKEN)).body)
    assert media == {"to": "49151", "kind": "image", "media_id": "77", "caption": f"menu {TOKEN}"}
    search = ref.build(SearchConversations("a b&c", 5))
    assert parse_qs(urlsplit(search.path).query) == {"q": ["a b&c"], "limit": ["5"]}


def test_the_token_is_not_added_twice() -> None:
    request = adapter("reference-steady.yaml").build(SendText("+49151", f"already {TOKEN} here", TOKEN))
    assert orjson.loads(request.body)["text"] == f"already {TOKEN} here"


def test_cloud_api_meta_path_and_biz_opaque_callback_data() -> None:
    cloud = adapter("cloud-api-mock.yaml")
    request = cloud.build(SendText("+49151", "hi", TOKEN))
    assert request.path == "/v23.0/100000000000001/messages"
    assert request.headers["Authorization"] == "Bearer graph-token-1234"
    body = orjson.loads(request.body)
    assert body["text"]["body"] == f"hi {TOKEN}" and body["biz_opaque_callback_data"] == TOKEN
    upload = cloud.build(UploadMedia(b"\xff\xd8data", "image/jpeg", "a.jpg"))
    assert upload.path == "/v23.0/100000000000001/media"
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in upload.body and b"\xff\xd8data" in upload.body


def test_360dialog_has_no_phone_id_in_the_path_and_uses_its_key_header() -> None:
    d360 = adapter("360dialog-facade.yaml")
    request = d360.build(SendTemplate("+49151", "promo", params=("Ada",), correlation_id=TOKEN))
    assert request.path == "/messages" and request.headers["D360-API-KEY"] == "d360-key-1234"
    assert "Authorization" not in request.headers
    parameters = orjson.loads(request.body)["template"]["components"][0]["parameters"]
    assert [item["text"] for item in parameters] == ["Ada", TOKEN]
    assert d360.build(Health()).path == "/v1/configs/webhook"


def test_twilio_form_basic_auth_and_whatsapp_addresses() -> None:
    twilio = adapter("twilio-facade.yaml")
    request = twilio.build(SendText("+4915112345678", "hi", TOKEN))
    assert request.path == "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    user, _, password = base64.b64decode(request.headers["Authorization"].split()[1]).decode().partition(":")
    assert (user, password) == ("AC00000000000000000000000000000001", "twilio-token-1234")
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert form == {"To": "whatsapp:+4915112345678", "From": "whatsapp:+15550000001", "Body": f"hi {TOKEN}"}
    template = parse_qs(
        twilio.build(SendTemplate("+49151", "HXabc", params=("Ada",), correlation_id=TOKEN)).body.decode()
    )
    assert orjson.loads(template["ContentVariables"][0]) == {"1": "Ada", "2": TOKEN}
    with pytest.raises(UnsupportedOperation, match="by URL"):
        twilio.build(SendMedia("+49151", media_id="77"))
    with pytest.raises(UnsupportedOperation):
        twilio.build(UploadMedia(b"x"))


def test_wati_text_goes_in_the_query_and_files_go_with_the_send() -> None:
    wati = adapter("wati-facade.yaml")
    request = wati.build(SendText("+4915112345678", "hi & bye", TOKEN))
    parts = urlsplit(request.path)
    assert parts.path == "/api/v1/sendSessionMessage/4915112345678"
    assert parse_qs(parts.query) == {"messageText": [f"hi & bye {TOKEN}"]}
    assert request.headers["Authorization"] == "Bearer wati-token-1234" and request.body == b""
    template = orjson.loads(wati.build(SendTemplate("+49151", "promo", params=("Ada",), correlation_id=TOKEN)).body)
    assert template["parameters"] == [{"name": "1", "value": "Ada"}, {"name": "2", "value": TOKEN}]
    file = wati.build(SendMedia("+49151", content=b"JPEGDATA", caption="menu", correlation_id=TOKEN))
    assert parse_qs(urlsplit(file.path).query) == {"caption": [f"menu {TOKEN}"]} and b"JPEGDATA" in file.body


def _answer(status: int, data: object) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(data))


@pytest.mark.parametrize(
    ("file", "status", "data", "result", "kind", "code", "message_id"),
    [
        ("reference-steady.yaml", 202, {"id": "msg_1", "status": "queued"}, "ok", "none", None, "msg_1"),
        ("reference-steady.yaml", 202, {"status": "queued"}, "failed", "body", "no_id", None),
        (
            "reference-steady.yaml",
            429,
            {"error": {"code": "rate_limited", "message": "slow"}},
            "failed",
            "http",
            "rate_limited",
            None,
        ),
        (
            "reference-steady.yaml",
            500,
            {"error": {"code": "injected_error", "message": "x"}},
            "indeterminate",
            "http",
            "injected_error",
            None,
        ),
        (
            "reference-steady.yaml",
            503,
            {"error": {"code": "unavailable", "message": "x"}},
            "failed",
            "http",
            "unavailable",
            None,
        ),
        ("cloud-api-mock.yaml", 200, {"messages": [{"id": "wamid.X"}]}, "ok", "none", None, "wamid.X"),
        (
            "cloud-api-mock.yaml",
            400,
            {"error": {"code": 131047, "message": "Re-engagement"}},
            "failed",
            "http",
            "131047",
            None,
        ),
        ("cloud-api-mock.yaml", 502, {"error": {"code": 2, "message": "upstream"}}, "indeterminate", "http", "2", None),
        (
            "360dialog-facade.yaml",
            401,
            {"meta": {"http_code": 401, "developer_message": "Invalid api key"}},
            "failed",
            "http",
            "401",
            None,
        ),
        ("twilio-facade.yaml", 201, {"sid": "SM1", "status": "queued"}, "ok", "none", None, "SM1"),
        (
            "twilio-facade.yaml",
            201,
            {"sid": "SM2", "status": "failed", "error_code": 63016},
            "failed",
            "body",
            "63016",
            "SM2",
        ),
        ("twilio-facade.yaml", 429, {"code": 63018, "message": "rate"}, "failed", "http", "63018", None),
        (
            "wati-facade.yaml",
            200,
            {"result": True, "message": {"whatsappMessageId": "wamid.W"}},
            "ok",
            "none",
            None,
            "wamid.W",
        ),
        ("wati-facade.yaml", 200, {"result": False, "info": "Invalid number"}, "failed", "body", "result_false", None),
    ],
)
def test_answers_become_typed_outcomes(file, status, data, result, kind, code, message_id) -> None:
    dialect = adapter(file)
    request = dialect.build(SendText("+4915112345678", "hi", TOKEN))
    outcome = dialect.interpret(request, _answer(status, data))
    assert (outcome.result, outcome.error_kind, outcome.error_code, outcome.vendor_message_id) == (
        result,
        kind,
        code,
        message_id,
    )
    assert outcome.correlation_id == TOKEN and outcome.bytes_sent == len(request.body)


def test_an_html_error_page_is_a_failure_not_a_crash() -> None:
    dialect = adapter("wati-facade.yaml")
    request = dialect.build(SendText("+49151", "hi", TOKEN))
    outcome = dialect.interpret(request, HttpResponse(403, b"<html>Forbidden</html>"))
    assert (outcome.result, outcome.http_status, outcome.error_text) == ("failed", 403, "<html>Forbidden</html>")


def test_generic_http_fills_templates_encodes_path_values_and_applies_its_rule() -> None:
    data = yaml.safe_load((SHIPPED_PROFILES / "generic-http-example.yaml").read_text())
    data["options"]["operations"]["send_text"]["path"] = "/v1/chats/{to}/messages"
    generic = create_adapter(parse_profile(data, source="generic"), environ=PROFILE_ENV)
    request = generic.build(SendText("../../admin?x=1", "hi", TOKEN))
    assert request.path == "/v1/chats/..%2F..%2Fadmin%3Fx%3D1/messages"
    body = orjson.loads(request.body)
    assert body["text"]["body"] == f"hi {TOKEN}" and body["biz_opaque_callback_data"] == TOKEN
    health = generic.build(Health())
    assert generic.interpret(health, _answer(200, {"status": "ok"})).ok
    assert generic.interpret(health, _answer(200, {"status": "degraded"})).result == "failed"
    upload = generic.build(UploadMedia(b"IMG", "image/png", "a.png"))
    assert generic.interpret(upload, _answer(200, {"id": "m1"})).data["media_id"] == "m1"


def test_request_repr_never_shows_credentials() -> None:
    request = adapter("reference-steady.yaml").build(SendText("+49151", "hi", TOKEN))
    assert "ref-key-1234" not in repr(request) and "[redacted]" in repr(request)


def test_operations_the_profile_does_not_declare_are_refused() -> None:
    data = yaml.safe_load((SHIPPED_PROFILES / "reference-steady.yaml").read_text())
    data["capabilities"]["operations"] = ["health"]
    ref = create_adapter(parse_profile(data, source="ref"), environ=PROFILE_ENV)
    with pytest.raises(UnsupportedOperation, match="send_text"):
        ref.build(SendText("+49151", "hi"))


@pytest.mark.parametrize(
    ("error", "result", "kind"),
    [
        (httpx.ConnectError("refused"), "failed", "transport"),  # never reached the vendor
        (httpx.ConnectTimeout("slow connect"), "failed", "timeout"),
        (httpx.ReadTimeout("no answer"), "indeterminate", "timeout"),  # the vendor may have acted
        (httpx.RemoteProtocolError("reset mid-answer"), "indeterminate", "transport"),
    ],
)
def test_transport_failures_are_outcomes_and_unanswered_sends_are_indeterminate(error, result, kind) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    dialect = adapter("reference-steady.yaml")
    with httpx.Client(transport=httpx.MockTransport(fail)) as client:
        executor = HttpxExecutor("http://127.0.0.1:9", client=client)
        sent = executor.execute(dialect, dialect.build(SendText("+49151", "hi", TOKEN)))
        health = executor.execute(dialect, dialect.build(Health()))
    assert (sent.result, sent.error_kind) == (result, kind)
    assert health.result == "failed"  # a read that got no answer changed nothing


def test_dig_follows_dots_and_indexes() -> None:
    data = {"messages": [{"id": "w1"}], "a": {"b": 0}}
    assert dig(data, "messages[0].id") == "w1" and dig(data, "$.a.b") == 0
    assert dig(data, "messages[5].id") is None and dig(data, "a.b.c") is None and dig(None, "x") is None


class _Wrapped(Exception):
    """Shaped like geventhttpclient's RetriesExceeded: the real error is in ``.original``."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"0, original={original}")
        self.original = original


@pytest.mark.parametrize(
    ("error", "kind", "maybe_sent"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "transport", False),
        (_Wrapped(ConnectionRefusedError(111, "Connection refused")), "transport", False),
        (_Wrapped(TimeoutError("timed out")), "timeout", True),
        (ConnectionResetError(104, "reset by peer"), "transport", True),
        (None, "transport", True),
    ],
)
def test_locust_transport_errors_are_classified_under_their_wrappers(error, kind, maybe_sent) -> None:
    from harness.adapters.locust_executor import _transport_failure

    failure = _transport_failure(error)
    assert (failure.kind, failure.maybe_sent) == (kind, maybe_sent)
