"""The load's side of many numbers: each send names the next number of the spread as its sender, its record
context carries the number's id, customers write to the numbers in turn, and a one-number profile sends as before
(no sender on the call, the adapter's default)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, cast

import orjson

from harness.adapters.base import HttpRequest, TransportFailure
from harness.adapters.registry import create_adapter, load_profile
from harness.loadgen.customers import CustomerBook
from harness.loadgen.operations import MockTarget, Performer
from plan.numbers import NumberSpread

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


def performer(profile_file: str, *, worker: int = 0, workers: int = 1) -> Performer:
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
        numbers=NumberSpread(profile.business_numbers(), seed=1, worker_index=worker, worker_count=workers),
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
