"""One side of ``bench/agents_per_worker.py``, run as its own process (one core, like one Locust worker).

``agents``: N simulated agents (``harness.loadgen.agents``: the AgentDesk's agents, each a greenlet polling its
inbox every ``--poll`` seconds through the reference adapter and the desk's keep-alive pool, ``PooledExecutor``).
``plain``: N plain Locust FastHttpUsers making the same GET every ``--poll`` seconds (``constant_pacing``). Neither
has the recorder attached (its cost is ``bench/loadgen_overhead.py``'s). Prints ``offered=… achieved=…
lag_p95_ms=…``: inbox reads per second asked for and made, and the gevent loop's lag.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, constant_pacing, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.adapters.registry import create_adapter, load_profile  # noqa: E402
from harness.loadgen.agents import AgentDesk  # noqa: E402
from plan.load import AgentsPlan  # noqa: E402

API_KEY = "reference-api-key"


def lag_sampler(samples: list[float], stop: list[bool]) -> None:
    while not stop:
        before = time.perf_counter()
        gevent.sleep(0.05)
        samples.append((time.perf_counter() - before - 0.05) * 1000.0)


def run_agents(base_url: str, count: int, poll: float, seconds: float) -> int:
    environment = Environment(events=None)
    counter = [0]
    environment.events.request.add_listener(lambda **_: counter.__setitem__(0, counter[0] + 1))
    profile = load_profile(Path(__file__).resolve().parent.parent / "vendors" / "reference-steady.yaml")
    profile = profile.model_copy(update={"base_url": base_url})
    adapter = create_adapter(profile)
    performer = SimpleNamespace(adapter=adapter, base_context=lambda operation, at: {"operation": operation})
    spec = SimpleNamespace(run_tag=f"b{count}", seed=0, owner_confirmed=False, phase=0)
    session = SimpleNamespace(
        spec=spec, vendor=profile, performer=performer, worker_name="bench", worker_index=0, worker_count=1
    )  # fmt: skip  (index 1: no segment tagging)
    plan = AgentsPlan(first_shift=count, poll_s=poll)
    with tempfile.TemporaryDirectory() as tmp:
        desk = AgentDesk(environment, session, plan, Path(tmp))  # type: ignore[arg-type]
        for agent in desk.agents:
            agent.come_online()
        start = time.time()
        greenlets = [gevent.spawn(agent.run, start) for agent in desk.agents]
        gevent.sleep(poll)  # past the first reads, which every agent makes at once when it starts
        counter[0] = 0
        gevent.sleep(seconds)
        made = counter[0]
        desk.stopping = True
        gevent.killall(greenlets)
        desk.close()
    return made


def run_plain(base_url: str, count: int, poll: float, seconds: float) -> int:
    class Poller(FastHttpUser):
        host = base_url
        wait_time = constant_pacing(poll)

        def on_start(self) -> None:
            self.name = f"plain-{id(self)}"
            self.client.post(f"/api/agents/{self.name}/online", json={}, headers={"Authorization": f"Bearer {API_KEY}"})

        @task
        def inbox(self) -> None:
            self.client.get(f"/api/agents/{self.name}/inbox?since=0&limit=50",
                            headers={"Authorization": f"Bearer {API_KEY}"})  # fmt: skip

    environment = Environment(user_classes=[Poller])
    counter = [0]
    environment.events.request.add_listener(lambda **_: counter.__setitem__(0, counter[0] + 1))
    runner = environment.create_local_runner()
    runner.start(count, spawn_rate=count)
    gevent.sleep(min(2.0, poll * 2))  # every user spawned and online
    counter[0] = 0
    gevent.sleep(seconds)
    made = counter[0]
    runner.quit()
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=["agents", "plain"])
    parser.add_argument("base_url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    lags: list[float] = []
    stop: list[bool] = []
    sampler = gevent.spawn(lag_sampler, lags, stop)
    fn = run_agents if options.side == "agents" else run_plain
    made = fn(options.base_url, options.count, options.poll, options.seconds)
    stop.append(True)
    sampler.join()
    lags.sort()
    p95 = lags[int(0.95 * (len(lags) - 1))] if lags else 0.0
    offered = options.count / options.poll
    print(f"offered={offered:.1f} achieved={made / options.seconds:.1f} lag_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
