"""Uploaded media: numeric ids, Meta's MIME and size rules per kind, 30-day retention, 5-minute download URLs.

Download URLs are signed (HMAC with a per-process key) and carry their expiry, so the mock keeps no table of
them; a URL past its expiry, with a bad signature or for deleted media answers 404 as Meta's CDN does. Total bytes
are bounded: the oldest media are evicted first (and then answer 400/100/33 like expired ones).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
from collections import OrderedDict
from dataclasses import dataclass

from mocks.whatsapp.errors import GraphError, unknown_object

KB, MB = 1024, 1024 * 1024

# kind -> (MIME types, max bytes); stickers: static 100 KB, animated 500 KB (reference §4.6).
MEDIA_RULES: dict[str, tuple[frozenset[str], int]] = {
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MB),
    "document": (
        frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "sticker": (frozenset({"image/webp"}), 500 * KB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
}
STATIC_STICKER_MAX = 100 * KB
MAX_UPLOAD = 100 * MB


def kinds_for(mime_type: str) -> list[str]:
    return [kind for kind, (types, _) in MEDIA_RULES.items() if mime_type in types]


def is_animated_webp(data: bytes) -> bool:
    """An extended WebP (VP8X) with the animation flag set."""
    return len(data) > 20 and data[:4] == b"RIFF" and data[12:16] == b"VP8X" and bool(data[20] & 0x02)


def check_fits(kind: str, mime_type: str, size: int, data: bytes | None = None) -> None:
    """Raise 131053 unless media of ``mime_type`` and ``size`` may be sent as a ``kind`` message."""
    types, limit = MEDIA_RULES[kind]
    if mime_type not in types:
        raise GraphError(131053, f"Media upload error: {mime_type!r} is not a supported {kind} type ({sorted(types)}).")
    if kind == "sticker" and data is not None and not is_animated_webp(data):
        limit = STATIC_STICKER_MAX
    if size > limit:
        raise GraphError(131053, f"Media upload error: {size} bytes is over the {kind} limit of {limit} bytes.")


@dataclass(slots=True)
class Media:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes
    sha256: str
    uploaded_at: float
    filename: str = ""


class MediaStore:
    def __init__(
        self, *, url_ttl_s: float, retention_s: float, max_total_bytes: int, shard_index: int = 0, shard_count: int = 1
    ) -> None:
        self.url_ttl_s = url_ttl_s
        self.retention_s = retention_s
        self.max_total_bytes = max_total_bytes
        self._key = os.urandom(16)
        self._items: OrderedDict[str, Media] = OrderedDict()
        self._bytes = 0
        # Media ids are numeric strings (clients check); start high and random so ids do not look like counters.
        # With N shards, shard i hands out ids congruent to i modulo N, so any shard knows where a media id lives.
        self._ids = itertools.count(10**14 + int.from_bytes(os.urandom(5), "big"))
        self._shard_index, self._shard_count = shard_index, shard_count

    def put(self, phone_number_id: str, mime_type: str, data: bytes, now: float, filename: str = "") -> Media:
        kinds = kinds_for(mime_type)
        if not kinds:
            raise GraphError(131053, f"Media upload error: unsupported MIME type {mime_type!r}.")
        if len(data) > MAX_UPLOAD:
            raise GraphError(131053, f"Media upload error: {len(data)} bytes is over the 100 MB limit.")
        if not data:
            raise GraphError(131053, "Media upload error: the file is empty.")
        check_fits(kinds[0], mime_type, len(data), data)  # each MIME type belongs to one kind
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        media_id = str(next(self._ids) * self._shard_count + self._shard_index)
        media = Media(media_id, phone_number_id, mime_type, data, digest, now, filename)
        self._items[media.id] = media
        self._bytes += len(data)
        while self._bytes > self.max_total_bytes and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= len(evicted.data)
        return media

    def get(self, media_id: str, now: float) -> Media:
        media = self._items.get(media_id)
        if media is None or now - media.uploaded_at >= self.retention_s:
            raise unknown_object(media_id)
        return media

    def delete(self, media_id: str, now: float) -> None:
        media = self.get(media_id, now)
        del self._items[media.id]
        self._bytes -= len(media.data)

    def _signature(self, media_id: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{media_id}:{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()

    def url_path(self, media: Media, now: float) -> str:
        expires = int(now + self.url_ttl_s)
        return f"/mock-cdn/{media.id}/{expires}/{self._signature(media.id, expires)}"

    def download(self, media_id: str, expires: str, signature: str, now: float) -> Media | None:
        """The media for a download URL, or None (answered 404) when expired, forged or gone."""
        if not expires.isdigit() or now > int(expires):
            return None
        if not hmac.compare_digest(signature, self._signature(media_id, int(expires))):
            return None
        try:
            return self.get(media_id, now)
        except GraphError:
            return None

    def reset(self) -> None:
        self._items.clear()
        self._bytes = 0

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
