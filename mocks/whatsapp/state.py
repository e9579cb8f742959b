"""``MockState``: everything one mock process knows, hung off ``app.state.mock`` (no module globals).

Other parts reach in through a few documented members (docs/contracts.md):

- ``on_accepted``: callables run for each accepted outbound message with its ``LedgerEntry``, just before it is
  appended to the ledger (the webhook engine links replies and schedules the status ladder from it). A listener
  that raises is logged and does not fail the send.
- ``on_reset``: callables run by ``POST /_mock/reset`` after the core state is cleared (webhook queues...).
- ``customers`` (identity registry and 24 h window), ``ledger``, ``limiters``, ``media``, ``faults``, ``events``,
  ``config``, ``clock``, ``numbers`` (phone number id -> its config), ``shards`` (who owns what when sharded).
- ``health``: the process's own loop lag, service time and webhook queue lag (health.py; ``/_mock/stats``).
"""

from __future__ import annotations

import itertools
import logging
import os
from binascii import b2a_base64
from collections.abc import Callable
from typing import Any

from ground.clock import Clock
from mocks.whatsapp.config import LimitsConfig, MockConfig, PhoneNumberConfig
from mocks.whatsapp.customers import CustomerRegistry
from mocks.whatsapp.errors import TraceIds
from mocks.whatsapp.faults import EventLog, FaultSet, FaultSpec
from mocks.whatsapp.health import MockHealth
from mocks.whatsapp.ledger import Ledger, LedgerEntry
from mocks.whatsapp.limiters import Limiters
from mocks.whatsapp.media import MediaStore
from mocks.whatsapp.shards import ShardMap
from mocks.whatsapp.versions import VersionPolicy, label

log = logging.getLogger("mocks.whatsapp")

AcceptedListener = Callable[[LedgerEntry], None]


class MockState:
    def __init__(self, config: MockConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.numbers: dict[str, PhoneNumberConfig] = {number.id: number for number in config.phone_numbers}
        self.customers = CustomerRegistry(
            seed=config.seed, not_on_whatsapp_share=config.not_on_whatsapp_share, max_customers=config.max_customers
        )
        self.ledger = Ledger(config.ledger.memory_rows, config.ledger.spill_dir)
        self.limiters = Limiters(config.limits, self.numbers, on_event=self._limit_event)
        self.media = MediaStore(
            url_ttl_s=config.media.url_ttl_s,
            retention_s=config.media.retention_s,
            max_total_bytes=config.media.max_total_bytes,
            shard_index=config.shard_index,
            shard_count=max(1, len(config.shard_ports)),
        )
        self.shards = ShardMap(config)
        self.health = MockHealth(clock)
        sharded = len(config.shard_ports) > 1
        self.faults = FaultSet(seed=config.seed, id_prefix=f"s{config.shard_index}f" if sharded else "f")
        self.events = EventLog()
        self.trace_ids = TraceIds()
        self.versions = VersionPolicy(enforce=config.versions.enforce, today=config.versions.today)
        self.on_accepted: list[AcceptedListener] = []
        self.on_reset: list[Callable[[], None]] = []
        # (phone number id, seconds until done) when a throughput upgrade starts: the webhook engine sends
        # phone_number_quality_update THROUGHPUT_UPGRADE when it is done.
        self.on_throughput_upgrade: list[Callable[[str, float], None]] = []
        self.extensions: dict[str, Any] = {}  # plug-ins keep their own objects here, by plug-in name
        self.templates = {(template.name, template.language): template for template in config.templates}
        self.counters: dict[str, int] = {"accepted": 0, "rejected": 0, "shed": 0}
        # wamids: "wamid." + base64 of a per-process nonce and a counter: unique, opaque, cheap.
        self._wamid_nonce = os.urandom(6)
        self._wamid_head = b"HBgL" + self._wamid_nonce
        self._wamid_counter = itertools.count(1)

    def new_wamid(self) -> str:
        raw = self._wamid_head + next(self._wamid_counter).to_bytes(8, "big")
        return "wamid." + b2a_base64(raw, newline=False).decode("ascii")

    def accepted(self, entry: LedgerEntry) -> None:
        # Listeners run before the row is appended: columns they fill (the reply link) are in the row even when
        # this append makes the ledger spill. Later changes go through ``ledger.update``, which survives a spill.
        for listener in self.on_accepted:
            try:
                listener(entry)
            except Exception:  # a broken listener must not turn an accepted send into a 500
                log.exception("on_accepted listener %r failed for %s", listener, entry.wamid)
        self.ledger.append(entry)
        self.counters["accepted"] += 1

    def _limit_event(self, action: str, detail: dict[str, Any]) -> None:
        """Tier and throughput upgrades from the limiters: logged; an unlimited portfolio's numbers start their
        automatic throughput upgrade; listeners hear of each upgrade that starts."""
        self.events.add(self.clock.now(), action, **detail)
        limits = self.limiters.config
        if action == "messaging_limit_upgraded" and detail["new"] == "unlimited" and limits.auto_throughput_upgrade:
            key = detail[limits.reach_scope]
            for number_id in self.limiters.unlimited_numbers(key):
                self.start_throughput_upgrade(number_id)
        elif action == "throughput_upgrade_started":
            for listener in self.on_throughput_upgrade:
                try:
                    listener(detail["phone_number_id"], detail["duration_s"])
                except Exception:
                    log.exception("on_throughput_upgrade listener %r failed", listener)

    def start_throughput_upgrade(self, phone_number_id: str) -> bool:
        return self.limiters.start_throughput_upgrade(phone_number_id, self.clock.monotonic())

    def served_version(self, major: int, minor: int) -> tuple[int, int]:
        """The version serving a call to ``v{major}.{minor}`` (versions.py); the first call of each expired version
        that another one serves is noted in the event log."""
        served = self.versions.serve(major, minor, self.clock.now())
        if served[0] != major or served[1] != minor:
            self._note_fallback(label((major, minor)), label(served))
        return served

    def served_version_text(self, version: str | None) -> tuple[int, int]:
        served = self.versions.serve_text(version, self.clock.now())
        if version is not None and label(served) != version:
            self._note_fallback(version, label(served))
        return served

    def _note_fallback(self, requested: str, served: str) -> None:
        if self.versions.fallbacks.get(requested) != served:
            self.versions.fallbacks[requested] = served
            self.events.add(self.clock.now(), "expired_version_served", requested=requested, served=served)

    def add_fault(self, spec: FaultSpec, *, source: str = "control", fault_id: str | None = None) -> str:
        now = self.clock.now()
        fault = self.faults.add(spec, now, fault_id=fault_id)
        self.events.add(now, "fault_added", fault_id=fault.id, source=source, fault=spec.model_dump())
        return fault.id

    def remove_fault(self, fault_id: str) -> bool:
        removed = self.faults.remove(fault_id)
        if removed is not None:
            self.events.add(self.clock.now(), "fault_removed", fault_id=fault_id)
        return removed is not None

    def clear_faults(self) -> list[str]:
        ids = self.faults.clear()
        self.events.add(self.clock.now(), "faults_cleared", fault_ids=ids)
        return ids

    def set_limits(self, limits: LimitsConfig) -> None:
        self.limiters.update(limits)
        self.events.add(self.clock.now(), "limits_changed", limits=limits.model_dump())

    def reset(self) -> None:
        """Clear ledger, limiters, media, faults and customers; plug-ins clear theirs through ``on_reset``."""
        self.ledger.reset()
        self.limiters.reset()
        self.media.reset()
        self.faults.clear()
        self.customers.reset()
        self.versions.fallbacks.clear()
        self.counters = dict.fromkeys(self.counters, 0)
        for callback in self.on_reset:
            callback()
        self.events.add(self.clock.now(), "reset")

    def close(self) -> None:
        self.ledger.close()
