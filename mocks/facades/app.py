"""``create_facade_app(settings)``: the facade app for ``settings.dialect``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from mocks.facades.common import Dialect, FacadeSettings
from mocks.facades.d360 import create_d360_app
from mocks.facades.twilio import create_twilio_app
from mocks.facades.wati import create_wati_app

FACTORIES: dict[Dialect, Callable[..., Starlette]] = {
    "twilio": create_twilio_app,
    "wati": create_wati_app,
    "360dialog": create_d360_app,
}


def create_facade_app(settings: FacadeSettings, **kwargs: Any) -> Starlette:
    return FACTORIES[settings.dialect](settings, **kwargs)
