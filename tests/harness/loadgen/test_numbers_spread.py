"""The load's side of many numbers: each send names the spread's number as its sender (the customer's own by
default, the next in turn with ``number_spread: round_robin``), its record context carries the number's id,
customers write to their number (or the numbers in turn), and a one-number profile sends as before (no sender on
the call, the adapter's default)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, cast

import orjson

from harness.adapters.base import HttpRequest, TransportFailure
from harness.adapters.registry import create_adapter, load_profile
from harness.loadgen.customers import CustomerBook
from harness.loadgen.operations import MockTarget, Performer
from plan.numbers import NumberSpread, SpreadName

VENDORS = Path(__file__).resolve().parents[3] / "vendors"


class RecordingExecutor:
    """Keeps what the performer hands over instead of sending it (the adapters are sans-IO)."""

    def __init__(self) -> None:
        self.sent: list[tuple[HttpRequest, dict[str, Any]]] = []
        self.exchanged: list[dict[str, Any]] = []
        self.reported: list[dict[str, Any]] = []

    def execute(self, adapter: Any, request: HttpRequest, context: dict[str, Any]) -> None:
        self.sent.append((request, context))

    def exchange(self, method: str, url: str, data: bytes, headers: Any, timeout: float) -> TransportFailure:
        self.exchanged.append(orjson.loads(data))
        return TransportFailure("transport", "not sent in this test", maybe_sent=False)

    def report(self, outcome: Any, **kwargs: Any) -> None:
        self.reported.append(kwargs["context"])


def performer(
    profile_file: str,
    *,
    worker: int = 0,
    workers: int = 1,
    spread: SpreadName = "round_robin",
    options: dict[str, Any] | None = None,
) -> Performer:
    profile = load_profile(VENDORS / profile_file)
    return Performer(
        adapter=create_adapter(profile, environ={}),
        customers=CustomerBook(50, seed=1),
        run_tag="abc123",
        worker_index=worker,
        worker_name=f"worker-{worker}",
        vendor=profile.name,
        scenario="peak",
        mock=MockTarget("http://127.0.0.1:9", "admin", profile.phone.id or "100000000000001"),
        seed=1,
        options=options or {},
        numbers=NumberSpread(
            profile.business_numbers(), seed=1, worker_index=worker, worker_count=workers, spread=spread
        ),
    )


def test_every_send_goes_from_the_next_number_and_its_record_names_it() -> None:
    executor = RecordingExecutor()
    perf = performer("reference-many-numbers.yaml")
    for _ in range(100):
        perf.perform(cast(Any, executor), "send_text", None)
    perf.perform(cast(Any, executor), "search_conversations", None)
    used = Counter(context["phone_number_id"] for _, context in executor.sent[:100])
    assert len(used) == 50 and set(used.values()) == {2}  # two rounds of the 50
    for request, context in executor.sent[:100]:
        assert orjson.loads(request.body)["from"] == context["phone_number_id"]
    assert "phone_number_id" not in executor.sent[100][1]  # a search goes out from no number


def test_customers_write_to_the_numbers_in_turn_independently_of_the_sends() -> None:
    executor = RecordingExecutor()
    perf = performer("reference-many-numbers.yaml")
    perf.perform(cast(Any, executor), "send_text", None)
    for _ in range(50):
        perf.perform(cast(Any, executor), "customer_message", None)
    written_to = [body["phone_number_id"] for body in executor.exchanged]
    assert len(set(written_to)) == 50
    assert [context["phone_number_id"] for context in executor.reported] == written_to


def test_two_workers_share_the_cycle_between_them() -> None:
    executors = [RecordingExecutor(), RecordingExecutor()]
    for worker, executor in enumerate(executors):
        perf = performer("reference-many-numbers.yaml", worker=worker, workers=2)
        for _ in range(25):
            perf.perform(cast(Any, executor), "send_template", None)
    used = [context["phone_number_id"] for executor in executors for _, context in executor.sent]
    assert len(set(used)) == 50  # 25 each, every number once


def test_a_one_number_profile_sends_without_a_sender_as_before() -> None:
    executor = RecordingExecutor()
    perf = performer("reference-steady.yaml")
    perf.perform(cast(Any, executor), "send_text", None)
    perf.perform(cast(Any, executor), "customer_message", None)
    request, context = executor.sent[0]
    assert "from" not in orjson.loads(request.body) and context["phone_number_id"] == "100000000000001"
    assert executor.exchanged[0]["phone_number_id"] == "100000000000001"


def test_by_default_each_customer_hears_from_and_writes_to_one_number_across_workers() -> None:
    executors = [RecordingExecutor(), RecordingExecutor()]
    for worker, executor in enumerate(executors):
        perf = performer("reference-many-numbers.yaml", worker=worker, workers=2, spread="customer")
        for _ in range(200):
            perf.perform(cast(Any, executor), "send_text", None)
        for _ in range(100):
            perf.perform(cast(Any, executor), "customer_message", None)
    heard_from: dict[str, set[str]] = {}
    for executor in executors:
        for request, context in executor.sent:
            body = orjson.loads(request.body)
            assert body["from"] == context["phone_number_id"]
            heard_from.setdefault(body["to"], set()).add(context["phone_number_id"])
    assert all(len(ids) == 1 for ids in heard_from.values())  # one number per customer, whichever worker sends
    assert len({next(iter(ids)) for ids in heard_from.values()}) > 25  # and the customers spread over the numbers
    for executor in executors:
        for body in executor.exchanged:
            if body["from"] in heard_from:  # a customer writes to the number they hear from
                assert {body["phone_number_id"]} == heard_from[body["from"]]


def test_the_hot_customer_of_the_throttle_scenario_hears_from_one_number_so_the_pair_limit_bites() -> None:
    customer_spread, turns = RecordingExecutor(), RecordingExecutor()
    arms: tuple[tuple[SpreadName, RecordingExecutor], ...] = (("customer", customer_spread), ("round_robin", turns))
    for spread, executor in arms:
        perf = performer("reference-many-numbers.yaml", spread=spread, options={"pair_share": 0.5})
        for _ in range(200):
            perf.perform(cast(Any, executor), "send_text", None)
    hot = perf.customers.customer(0).wa_id

    def numbers_for_hot(executor: RecordingExecutor) -> set[str]:
        return {c["phone_number_id"] for r, c in executor.sent if orjson.loads(r.body)["to"] == hot}

    assert len(numbers_for_hot(customer_spread)) == 1
    assert len(numbers_for_hot(turns)) > 10  # spread over many pairs: WhatsApp's pair rate would not bite


def test_a_media_upload_has_no_customer_and_takes_the_numbers_in_turn() -> None:
    executor = RecordingExecutor()
    perf = performer("reference-many-numbers.yaml", spread="customer")
    for _ in range(50):
        perf.perform(cast(Any, executor), "upload_media", None)
    assert len({context["phone_number_id"] for _, context in executor.sent}) == 50
