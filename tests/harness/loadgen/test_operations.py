"""Operation mixes: weighted, reproducible per seed and worker, and different between workers."""

from __future__ import annotations

from harness.loadgen.operations import MockTarget, OperationPicker
from mocks.whatsapp.shards import sender_for

MIX = [("send_text", 8), ("customer_message", 2), ("search_conversations", 1)]


def test_picks_follow_the_weights() -> None:
    picker = OperationPicker(MIX, seed=1, worker_index=0, purpose="closed")
    picks = [picker.next() for _ in range(5500)]
    shares = {name: picks.count(name) / len(picks) for name, _ in MIX}
    assert abs(shares["send_text"] - 8 / 11) < 0.03
    assert abs(shares["customer_message"] - 2 / 11) < 0.03
    assert abs(shares["search_conversations"] - 1 / 11) < 0.03


def test_same_seed_and_worker_repeat_other_workers_differ() -> None:
    def run(worker: int, seed: int = 1) -> list[str]:
        picker = OperationPicker(MIX, seed=seed, worker_index=worker, purpose="mix")
        return [picker.next() for _ in range(200)]

    assert run(0) == run(0)
    assert run(0) != run(1)
    assert run(0) != run(0, seed=2)


def test_a_single_operation_mix_always_picks_it() -> None:
    picker = OperationPicker([("upload_media", 1)], seed=0, worker_index=3, purpose="mix")
    assert {picker.next() for _ in range(50)} == {"upload_media"}


def test_a_sharded_runs_customers_write_to_the_number_their_hash_picks() -> None:
    numbers = ("100000000000001", "100000000000002")
    sharded = MockTarget("http://127.0.0.1:9", "token", numbers[0], numbers)
    picked = {sharded.number_for(f"4477009{k:05d}") for k in range(30)}
    assert picked == set(numbers)
    assert sharded.number_for("+4915100000001") == sender_for("4915100000001", numbers)
    assert MockTarget("http://127.0.0.1:9", "token", "7").number_for("4915100000001") == "7"
