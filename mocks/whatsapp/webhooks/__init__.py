"""Webhooks and simulated customers for the mock WhatsApp Cloud API (issue 3).

The core app (``mocks/whatsapp/app.py``) imports this package and calls ``create_plugin(config)``; the plug-in
mounts the control-plane routes of ``routes.py`` and, in the app's lifespan, starts a ``WebhookEngine`` kept in
``state.extensions["webhooks"]``. Modules, one concept each:

    signing.py        exact-bytes serialisation (non-ASCII escaped) and X-Hub-Signature-256
    payloads.py       Meta's 2026 inbound and status payloads, BSUID contacts, batches
    ladder.py         sent → delivered → read / failed, conversation and pricing
    retry.py          Meta's 7-day retry curve, time-compressible
    dispatcher.py     bounded queues, task pool, batching, duplicates, reordering, retries, attempt records
    attempts.py       WEBHOOK_ATTEMPT_SCHEMA rows and their export
    subscriptions.py  subscriptions and the hub.challenge handshake
    customers.py      seeded simulated customers (Faker names, real country codes, six languages)
    inbound.py        the customer-message body and its webhook node (text, media, replies, location)
    replies.py        linking the vendor's reply to the customer message it answers
    engine.py         all of the above joined to MockState
    routes.py         /_mock/subscriptions, /_mock/customers/messages, /_mock/webhooks/*
    openapi.py        those routes in the served OpenAPI document
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from ground.loading import validate
from mocks.whatsapp.webhooks.config import WebhookConfig
from mocks.whatsapp.webhooks.engine import WebhookEngine
from mocks.whatsapp.webhooks.openapi import webhook_openapi
from mocks.whatsapp.webhooks.routes import webhook_routes

if TYPE_CHECKING:
    from mocks.whatsapp.config import MockConfig
    from mocks.whatsapp.state import MockState


class WebhooksPlugin:
    name = "webhooks"

    def __init__(self, settings: WebhookConfig) -> None:
        self.settings = settings

    def routes(self, state: MockState) -> Sequence[BaseRoute]:
        return webhook_routes()

    def openapi(self) -> dict[str, Any]:
        """This plug-in's paths and schemas for the served OpenAPI document (``{"paths", "schemas"}``)."""
        return webhook_openapi(self.settings)

    def build_engine(self, state: MockState) -> WebhookEngine:
        """The engine this plug-in runs (tests override it to give the engine in-process transports)."""
        return WebhookEngine(state, self.settings)

    async def startup(self, state: MockState) -> None:
        engine = self.build_engine(state)
        state.extensions[self.name] = engine
        state.on_accepted.append(engine.on_accepted)
        state.on_reset.append(engine.reset)
        state.on_throughput_upgrade.append(engine.on_throughput_upgrade)
        await engine.start()

    async def shutdown(self, state: MockState) -> None:
        engine = state.extensions.pop(self.name, None)
        if engine is not None:
            state.on_accepted.remove(engine.on_accepted)
            state.on_reset.remove(engine.reset)
            state.on_throughput_upgrade.remove(engine.on_throughput_upgrade)
            await engine.stop()


def create_plugin(config: MockConfig) -> WebhooksPlugin:
    """Called by ``create_app``; a bad ``webhooks:`` section is a ConfigError naming the field and the fix."""
    return WebhooksPlugin(validate(WebhookConfig, config.webhooks, source="mock config, section webhooks"))
