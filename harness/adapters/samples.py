"""The sample media every contract check sends: ``scrmbench vendors check`` (``harness.smoke``) and the Locust
probe (``locust_probe``) upload and send the same tiny JPEG, or link the same URL."""

from __future__ import annotations

# A tiny JPEG (SOI, APP0/JFIF header, EOI): enough for every MIME and size check on the way.
SMOKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 512 + b"\xff\xd9"
SMOKE_LINK = "https://example.com/scrmbench-smoke.jpg"
