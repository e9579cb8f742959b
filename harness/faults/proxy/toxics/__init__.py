"""The chaos proxy's toxics, one module each; importing this package registers them all in ``TOXICS``."""

from __future__ import annotations

from harness.faults.proxy.toxics import (  # noqa: F401  (each module registers its toxic)
    bandwidth,
    latency,
    limit_data,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from harness.faults.proxy.toxics.base import (
    TOXICS,
    Chunk,
    CloseLink,
    Stream,
    Toxic,
    ToxicContext,
    ToxicSpec,
    build_toxic,
    register_toxic,
)

__all__ = [
    "TOXICS",
    "Chunk",
    "CloseLink",
    "Stream",
    "Toxic",
    "ToxicContext",
    "ToxicSpec",
    "build_toxic",
    "register_toxic",
]
