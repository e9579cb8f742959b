"""What a simulated customer sends: the control-plane body, and the ``messages[]`` node Meta would deliver.

Minimal body: ``{"phone_number_id": "...", "from": "4915112345678", "type": "text", "text": "discount code?"}``.
Everything else is optional: no ``from`` picks simulated customer ``customer_index`` (or the next one), no
``text`` uses that customer's language, no ``profile_name`` uses a Faker name. Media (``image``, ``document``,
``audio``, ``video``, ``sticker``) are stored in the mock's media store, so the vendor can download them by id
through the Graph API; give ``media.data_base64`` or get a small placeholder file of ``media.mime_type``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MessageType = Literal[
    "text", "image", "document", "audio", "video", "sticker", "button_reply", "list_reply", "location"
]

DEFAULT_MIME = {
    "image": "image/jpeg",
    "document": "application/pdf",
    "audio": "audio/ogg",
    "video": "video/mp4",
    "sticker": "image/webp",
}
# Small files with the right magic bytes, for customers who "send a photo" without the test providing one.
PLACEHOLDER = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9",
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "application/pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "audio/ogg": b"OggS\x00\x02" + b"\x00" * 64,
    "video/mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64,
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24,
}


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mime_type: str | None = None
    data_base64: str | None = None
    caption: str | None = None
    filename: str | None = None

    def data(self, mime_type: str) -> bytes:
        if self.data_base64 is None:
            return PLACEHOLDER.get(mime_type, b"\x00" * 128)
        try:
            return base64.b64decode(self.data_base64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"media.data_base64 is not valid base64 ({exc}); encode the file with base64") from exc


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str | None = None


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class CustomerMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    phone_number_id: str | None = None  # default: the mock's first phone number
    from_: str | None = Field(default=None, alias="from", pattern=r"^\+?[0-9]{5,15}$")
    customer_index: int | None = Field(default=None, ge=0)  # a simulated customer instead of "from"
    profile_name: str | None = None
    username: str | None = None
    type: MessageType = "text"
    text: str | None = Field(default=None, max_length=4096)
    context_message_id: str | None = None  # the customer quotes a business message
    media: MediaIn | None = None
    reply: ReplyIn | None = None
    location: LocationIn | None = None

    @model_validator(mode="after")
    def _parts_for_type(self) -> CustomerMessage:
        if self.type in ("button_reply", "list_reply") and self.reply is None:
            raise ValueError(f"type {self.type} needs reply: {{'id': ..., 'title': ...}}")
        if self.type == "location" and self.location is None:
            raise ValueError("type location needs location: {'latitude': ..., 'longitude': ...}")
        return self

    @property
    def sender(self) -> str | None:
        return self.from_.removeprefix("+") if self.from_ else None


def content_node(message: CustomerMessage, text: str, media: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The webhook ``type`` and the node named after it (reference §5.3)."""
    kind = message.type
    if kind == "text":
        return "text", {"body": text}
    if kind in MEDIA_TYPES:
        assert media is not None
        return kind, media
    if kind in ("button_reply", "list_reply"):
        assert message.reply is not None
        reply: dict[str, Any] = {"id": message.reply.id, "title": message.reply.title}
        if kind == "list_reply" and message.reply.description is not None:
            reply["description"] = message.reply.description
        return "interactive", {"type": kind, kind: reply}
    assert message.location is not None
    return "location", message.location.model_dump(exclude_none=True)


def media_node(kind: str, media_id: str, mime_type: str, sha256: str, spec: MediaIn | None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": media_id, "mime_type": mime_type, "sha256": sha256}
    if spec is not None and spec.caption and kind in ("image", "video", "document"):
        node["caption"] = spec.caption
    if kind == "document":
        node["filename"] = (spec.filename if spec else None) or "document.pdf"
    if kind == "audio":
        node["voice"] = mime_type == "audio/ogg"
    if kind == "sticker":
        node["animated"] = False
    return node
