"""A minimal placeholder replaced below."""

from __future__ import annotations

from typing import Any

from mocks.whatsapp.config import MockConfig


def openapi_document(config: MockConfig) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "scrmbench mock WhatsApp Cloud API", "version": "1"}, "paths": {}}
