"""Graph API versions as of late 2026 (mocks/whatsapp/versions.py, docs/whatsapp-2026.md "Versions")."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from ground.clock import FakeClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.errors import GraphError
from mocks.whatsapp.versions import VersionPolicy
from tests.mocks.whatsapp.helpers import ADMIN, PNID, error_of, open_window, text

pytestmark = pytest.mark.anyio

NOV_2026 = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC).timestamp()


def test_late_2026_newest_is_v26_and_v20_is_expired() -> None:
    policy = VersionPolicy()
    assert policy.newest(NOV_2026) == (26, 0)
    assert policy.serve(26, 0, NOV_2026) == (26, 0)
    assert policy.serve(21, 0, NOV_2026) == (21, 0)  # expires 2027-01-21: still usable
    assert policy.serve(20, 0, NOV_2026) == (21, 0)  # expired 2026-09-24: served by the oldest usable
    assert policy.serve(2, 8, NOV_2026) == (21, 0)  # long gone, same rule


def test_after_january_2027_v21_is_served_by_v22() -> None:
    feb_2027 = dt.datetime(2027, 2, 1, tzinfo=dt.UTC).timestamp()
    assert VersionPolicy().serve(21, 0, feb_2027) == (22, 0)


@pytest.mark.parametrize(("major", "minor"), [(99, 0), (25, 3), (27, 0)])
def test_unknown_versions_are_graph_errors(major: int, minor: int) -> None:
    with pytest.raises(GraphError) as caught:
        VersionPolicy().serve(major, minor, NOV_2026)
    assert caught.value.code == 100 and "Unknown path components" in (caught.value.title or "")


def test_a_version_not_yet_released_on_the_mocks_date_is_unknown() -> None:
    with pytest.raises(GraphError):
        VersionPolicy(today=dt.date(2026, 5, 1)).serve(26, 0, NOV_2026)


def test_enforce_false_accepts_any_version_as_before() -> None:
    assert VersionPolicy(enforce=False).serve(9, 1, NOV_2026) == (9, 1)


@pytest.fixture
def mock_app() -> Starlette:
    return create_app(MockConfig(), clock=FakeClock(start=NOV_2026), plugins=[])


async def test_an_expired_version_is_served_by_the_oldest_usable_one(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    open_window(mock_app)
    response = await mock_client.post(f"/v20.0/{PNID}/messages", json=text())
    assert response.status_code == 200, response.text
    assert response.headers["facebook-api-version"] == "v21.0"
    again = await mock_client.post(f"/v20.0/{PNID}/messages", json=text())
    assert again.status_code == 200
    events = (await mock_client.get("/_mock/events", headers=ADMIN)).json()
    served = [e for e in events["events"] if e["action"] == "expired_version_served"]
    assert len(served) == 1 and served[0]["requested"] == "v20.0" and served[0]["served"] == "v21.0"


async def test_current_and_unversioned_calls_are_served_as_v26(
    mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    open_window(mock_app)
    current = await mock_client.post(f"/v26.0/{PNID}/messages", json=text())
    bare = await mock_client.post(f"/{PNID}/messages", json=text())
    assert current.headers["facebook-api-version"] == bare.headers["facebook-api-version"] == "v26.0"


@pytest.mark.parametrize("path", [f"/v99.0/{PNID}/messages", f"/v9.1/{PNID}/messages", f"/v27.0/{PNID}"])
async def test_unknown_versions_get_the_graph_error(path: str, mock_client: httpx.AsyncClient) -> None:
    response = await (mock_client.post(path, json=text()) if path.endswith("messages") else mock_client.get(path))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100 and "Unknown path components" in error["message"]


@pytest.mark.parametrize(
    "path",
    [
        f"/v26/{PNID}/messages",  # no minor
        f"/vX.Y/{PNID}/messages",
        f"/v26.0.1/{PNID}/messages",
        f"/latest/{PNID}/messages",
        f"/v99.0/{PNID}/marketing_messages",  # the 2026 route follows the same rule
        f"/v26/{PNID}/marketing_messages",
        f"/vX.Y/{PNID}/marketing_messages",
    ],
)
async def test_an_unknown_version_string_gets_graph_code_100_on_every_send_route(
    path: str, mock_client: httpx.AsyncClient, mock_app: Starlette
) -> None:
    body = {"messaging_product": "whatsapp", "to": "4915112345678", "type": "template"}
    body["template"] = {"name": "promo", "language": {"code": "en_US"}}
    response = await mock_client.post(path, json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100 and "Unknown path components" in error["message"] and "fbtrace_id" in error
    assert mock_app.state.mock.ledger.entries() == []


async def test_graph_routes_follow_the_same_rule(mock_client: httpx.AsyncClient) -> None:
    assert (await mock_client.get(f"/v20.0/{PNID}")).status_code == 200


# The policy resolves each version once a day and remembers it (every send asks): the memo must answer what a
# policy without one answers, on any sequence of days, also across expiry dates and back.
KNOWN_AND_NOT = st.sampled_from(
    [(26, 0), (25, 0), (22, 0), (21, 0), (20, 0), (18, 0), (2, 8), (15, 0), (99, 0), (25, 3)]
)
DAYS = st.integers(min_value=19_000, max_value=21_500)  # 2022 to 2028: every release and expiry of the table


def _fresh(major: int, minor: int, now: float, *, today: dt.date | None = None) -> tuple[int, int] | str:
    try:
        return VersionPolicy(today=today).serve(major, minor, now)
    except GraphError as error:
        return error.title or ""


@given(calls=st.lists(st.tuples(KNOWN_AND_NOT, DAYS, st.floats(0.0, 86_399.0)), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_memo_answers_like_a_policy_without_one(calls: list[tuple[tuple[int, int], int, float]]) -> None:
    policy = VersionPolicy()
    for (major, minor), day, second in calls:
        now = day * 86_400.0 + second
        try:
            answer: tuple[int, int] | str = policy.serve(major, minor, now)
        except GraphError as error:
            answer = error.title or ""
        assert answer == _fresh(major, minor, now)


def test_a_pinned_date_ignores_the_clock_with_the_memo_too() -> None:
    pinned = VersionPolicy(today=dt.date(2026, 11, 2))
    for now in (NOV_2026, NOV_2026 + 400 * 86_400.0, 0.0):
        assert pinned.serve(20, 0, now) == (21, 0)
        assert pinned.serve(26, 0, now) == (26, 0)


async def test_a_version_that_expires_while_the_mock_runs_is_served_by_the_next_one_from_that_day() -> None:
    clock = FakeClock(start=dt.datetime(2027, 1, 20, 23, 59, tzinfo=dt.UTC).timestamp())  # v21.0's last minute
    config = MockConfig()
    app = create_app(config, clock=clock, plugins=[])
    open_window(app)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {config.auth.access_tokens[0]}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=headers) as client:
        before = await client.post(f"/v21.0/{PNID}/messages", json=text())
        clock.advance(120.0)  # 2027-01-21: v21.0 has expired
        after = await client.post(f"/v21.0/{PNID}/messages", json=text())
        again = await client.post(f"/v21.0/{PNID}/messages", json=text())
        assert (await client.post("/_mock/reset", headers=ADMIN)).status_code == 200
        open_window(app)
        after_reset = await client.post(f"/v21.0/{PNID}/messages", json=text())
        events = (await client.get("/_mock/events", headers=ADMIN)).json()["events"]
    assert before.headers["facebook-api-version"] == "v21.0"
    assert after.headers["facebook-api-version"] == again.headers["facebook-api-version"] == "v22.0"
    assert after_reset.headers["facebook-api-version"] == "v22.0"
    noted = [(e["requested"], e["served"]) for e in events if e["action"] == "expired_version_served"]
    assert noted == [("v21.0", "v22.0")] * 2  # the first call after the expiry, and the first after the reset
