"""``create_facade_app(settings)``: the facade app for ``settings.dialect``.

Each dialect module adds its app factory to ``FACADES`` (``mocks.facades.common``) at its end; importing them
here fills it.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from mocks.facades import d360, twilio, wati  # noqa: F401  (each registers its dialect)
from mocks.facades.common import FACADES, FacadeSettings

FACTORIES = FACADES  # the name this registry had when it was a dict


def create_facade_app(settings: FacadeSettings, **kwargs: Any) -> Starlette:
    return FACADES.get(settings.dialect)(settings, **kwargs)
