"""The callback receiver's place in a run: started after the services, told to the adapter, stopped and merged.

When the vendor profile has a ``callbacks`` block, ``start_callbacks`` starts a ``CallbackReceiver`` for the run
and, when the adapter takes a per-message callback URL (Twilio's ``StatusCallback``: an ``status_callback``
option), writes the receiver's URL into the run's effective profile, which every Locust process reads. Dialects
whose webhook URL is set once in the vendor's console (WATI, 360dialog, Cloud API forwarders) get the URL printed
for the user to paste (docs/hosted-vendors.md). ``stop_callbacks`` stops it, folds the shards into
``vendor_events.parquet`` and returns the manifest's ``callbacks`` section.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from ground.records import VENDOR_EVENT_SCHEMA
from harness.callbacks import CALLBACK_OPTION
from harness.callbacks.dialects import create_dialect
from harness.callbacks.receiver import EVENTS_DIR, CallbackHandler, CallbackReceiver, merge_vendor_events
from harness.config.profiles import CallbacksConfig, VendorProfile
from harness.recorder import ShardSink

log = logging.getLogger(__name__)


@dataclass
class RunCallbacks:
    config: CallbacksConfig
    handler: CallbackHandler
    receiver: CallbackReceiver
    sink: ShardSink
    per_message: bool  # the adapter passes the URL with every send

    @property
    def url(self) -> str:
        return self.handler.url


def start_callbacks(
    profile: VendorProfile, run_dir: Path, *, secret: str | None, per_message: bool
) -> RunCallbacks | None:
    """Start the receiver the profile asks for (None without a ``callbacks`` block). ``secret`` is the signing key
    and ``per_message`` whether the adapter sends the URL with every message (``harness.adapters.registry``:
    ``callback_secret``, ``takes_callback_url``)."""
    config = profile.callbacks
    if config is None:
        return None
    dialect = create_dialect(config.dialect, config.options, source=profile.name)
    sock = CallbackReceiver.bind(config.host, config.port)
    host = f"[{config.host}]" if ":" in config.host else config.host
    base = config.public_url or f"http://{host}:{sock.getsockname()[1]}"
    sink = ShardSink(run_dir / EVENTS_DIR, "callbacks", schema=VENDOR_EVENT_SCHEMA).start()
    handler = CallbackHandler(dialect, secret, sink, base, max_per_s=config.max_per_s, burst=config.burst)
    receiver = CallbackReceiver(handler, host=config.host).start(sock)
    if not per_message:  # the URL is set once at the vendor: the user pastes it (it is never written to results)
        print(
            f"callbacks: set the vendor's webhook URL to {handler.url} for this run (docs/hosted-vendors.md)",
            file=sys.stderr,
        )
    return RunCallbacks(config, handler, receiver, sink, per_message)


def subscribe_at_mock(
    callbacks: RunCallbacks | None, mock_url: str, admin_token: str, phone_number_id: str | None
) -> str:
    """When the candidate *is* the mock (launch kind ``mock``, the Cloud API shape spoken directly), subscribe the
    receiver to its webhooks, as a user would paste the URL into Meta's app dashboard: the mock then signs its
    status webhooks with the callbacks' key. Returns a note for the manifest when it could not ('' when done)."""
    if callbacks is None:
        return ""
    spec = {
        "callback_url": callbacks.url,
        "verify_token": callbacks.handler.path_secret,
        "app_secret": callbacks.handler.secret or "",
    }
    if phone_number_id:
        spec["phone_number_id"] = phone_number_id
    headers = {"Authorization": f"Bearer {admin_token}"}
    try:
        with httpx.Client(base_url=mock_url, trust_env=False, timeout=10) as client:
            answer = client.post("/_mock/subscriptions", json=spec, headers=headers)
    except httpx.HTTPError as exc:
        return f"the callback receiver could not be subscribed at the mock ({type(exc).__name__})"
    if answer.status_code != 201 or not answer.json().get("verified"):
        return f"the mock refused the callback receiver's subscription: HTTP {answer.status_code}"
    return ""


def with_callback_url(profile: VendorProfile, callbacks: RunCallbacks | None, path: Path) -> VendorProfile:
    """The effective profile with the receiver's URL as the adapter's per-message callback, rewritten to ``path``."""
    if callbacks is None or not callbacks.per_message:
        return profile
    options = {**profile.options, CALLBACK_OPTION: callbacks.url}
    effective = profile.model_copy(update={"options": options})
    path.write_text(yaml.safe_dump(effective.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return effective


def stop_callbacks(callbacks: RunCallbacks | None, run_dir: Path) -> dict[str, Any] | None:
    """Stop the receiver, flush and merge its events; the manifest's ``callbacks`` section (None: no receiver)."""
    if callbacks is None:
        return None
    callbacks.receiver.stop()
    with contextlib.suppress(Exception):
        callbacks.sink.close()
    with contextlib.suppress(OSError):
        merge_vendor_events(run_dir)
    section = callbacks.handler.manifest_section(callbacks.config.dialect, callbacks.config.public_url)
    section["per_message_url"] = callbacks.per_message
    if section["shed"]:
        section["note"] = (
            f"{section['shed']} callbacks were shed with 429 past {callbacks.config.max_per_s:g}/s "
            f"(burst {callbacks.config.burst}); the vendor may retry them later or never"
        )
    return section
