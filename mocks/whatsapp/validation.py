"""Validation of ``POST /{phone_number_id}/messages`` bodies, hand-written for speed (bench/mock_throughput.py:
pydantic on this path cost more than everything else together).

``parse_send(body)`` returns a ``Send`` describing the request, or raises ``GraphError`` with Graph's codes:
100 for a missing/unknown top-level parameter, 131008 for a missing required field in a message node, 131009 for
an invalid value, 131053 for media problems found later against the media store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mocks.whatsapp.errors import GraphError

MAX_TEXT = 4_096
MAX_CAPTION = 1_024
MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_OPAQUE = 512
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
CAPTIONED = frozenset({"image", "video", "document"})
MESSAGE_TYPES = frozenset({"text", "template", *MEDIA_TYPES, "interactive", "location", "contacts", "reaction"})
INTERACTIVE_TYPES = frozenset(
    {"button", "list", "cta_url", "product", "product_list", "location_request_message", "flow", "catalog_message"}
)


@dataclass(slots=True)
class Send:
    kind: str  # message | read | typing
    type: str = ""
    to: str | None = None
    recipient: str | None = None
    texts: list[str] = field(default_factory=list)  # where a correlation token may travel
    context_message_id: str | None = None
    biz_opaque_callback_data: str | None = None
    media: tuple[str, str] | None = None  # (message type, media id) to check against the store
    template: tuple[str, str, int] | None = None  # (name, language, body parameter count)
    message_id: str | None = None  # mark-as-read target


def _missing(path: str) -> GraphError:
    return GraphError(131008, f"The parameter {path} is required.")


def _invalid(path: str, why: str) -> GraphError:
    return GraphError(131009, f"{path}: {why}")


def _node(body: dict[str, Any], name: str) -> dict[str, Any]:
    node = body.get(name)
    if node is None:
        raise _missing(name)
    if not isinstance(node, dict):
        raise _invalid(name, "must be an object")
    return node


def _text(node: dict[str, Any], key: str, path: str, *, limit: int, required: bool = True) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, str):
        raise _invalid(path, "must be a string")
    if required and not value:
        raise _missing(path)
    if len(value) > limit:
        raise GraphError(100, f"Param {path} must be at most {limit} characters long.")
    return value


def parse_send(body: Any) -> Send:
    """The request a send body describes (see the module doc); GraphError when Graph would refuse it."""
    return _parse_plain_text(body) or parse_send_full(body)


def _parse_plain_text(body: Any) -> Send | None:
    """The send path's common case in one pass: a text message to a ``to``, every check of the full validator
    made inline; None for anything else (then ``parse_send_full`` decides, errors included). It must agree with
    ``parse_send_full`` on every input: tests/mocks/whatsapp/test_validation_properties.py checks that on
    generated bodies."""
    if not isinstance(body, dict) or body.get("type", "text") != "text" or body.get("status") is not None:
        return None
    to = body.get("to")
    recipient = body.get("recipient")
    node = body.get("text")
    if (
        body.get("messaging_product") != "whatsapp"
        or not isinstance(to, str)
        or (recipient is not None and not isinstance(recipient, str))
        or body.get("recipient_type", "individual") != "individual"
        or not isinstance(node, dict)
    ):
        return None
    text = node.get("body")
    preview = node.get("preview_url")
    if (
        not isinstance(text, str)
        or not text
        or len(text) > MAX_TEXT
        or not (preview is None or preview is True or preview is False)
    ):
        return None
    send = Send("message", "text", to, None, [text])  # by position: ~0.2 µs less than by keyword
    if body.get("context") is not None or body.get("biz_opaque_callback_data") is not None:
        _common(body, send)
    return send


def parse_send_full(body: Any) -> Send:
    """Every message type, every check, Graph's error for the first check that fails."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        if "messaging_product" not in body:
            raise GraphError(100, "The parameter messaging_product is required.")
        raise GraphError(100, "Param messaging_product must be 'whatsapp'.")
    status = body.get("status")
    if status is not None:
        return _parse_read(body, status)
    send = _address(body)
    kind = body.get("type", "text")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        raise GraphError(100, f"Param type must be one of {sorted(MESSAGE_TYPES)}, got {kind!r}.")
    send.type = kind
    _PARSERS[kind](body, send)
    _common(body, send)
    return send


def _address(body: dict[str, Any]) -> Send:
    to, recipient = body.get("to"), body.get("recipient")
    if to is None and recipient is None:
        raise GraphError(100, "The parameter to is required.")
    if to is not None and not isinstance(to, str):
        raise GraphError(100, "Param to must be a string.")
    if recipient is not None and not isinstance(recipient, str):
        raise GraphError(100, "Param recipient must be a string.")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise GraphError(100, f"Param recipient_type must be 'individual', got {recipient_type!r}.")
    return Send(kind="message", to=to, recipient=None if to is not None else recipient)


def _common(body: dict[str, Any], send: Send) -> None:
    context = body.get("context")
    if context is not None:
        if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
            raise _invalid("context.message_id", "must be a string wamid")
        send.context_message_id = context["message_id"]
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None:
        if not isinstance(opaque, str) or len(opaque) > MAX_OPAQUE:
            raise GraphError(
                100, f"Param biz_opaque_callback_data must be a string of at most {MAX_OPAQUE} characters."
            )
        send.biz_opaque_callback_data = opaque
        send.texts.append(opaque)


def _parse_read(body: dict[str, Any], status: Any) -> Send:
    if status != "read":
        raise GraphError(100, f"Param status must be 'read', got {status!r}.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise _missing("message_id")
    if not message_id.startswith("wamid."):
        raise _invalid("message_id", f"{message_id!r} is not a valid message id")
    typing = body.get("typing_indicator")
    if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
        raise _invalid("typing_indicator.type", "must be 'text'")
    return Send(kind="typing" if typing is not None else "read", message_id=message_id)


def _parse_text(body: dict[str, Any], send: Send) -> None:
    node = _node(body, "text")
    send.texts.append(_text(node, "body", "text.body", limit=MAX_TEXT) or "")
    preview = node.get("preview_url")
    if preview is not None and not isinstance(preview, bool):
        raise _invalid("text.preview_url", "must be true or false")


def _parse_media(body: dict[str, Any], send: Send) -> None:
    kind = send.type
    node = _node(body, kind)
    media_id, link = node.get("id"), node.get("link")
    if media_id is None and link is None:
        raise _missing(f"{kind}.id or {kind}.link")
    if media_id is not None:
        if not isinstance(media_id, str) or not media_id.isdigit():
            raise _invalid(f"{kind}.id", f"{media_id!r} is not a media id (media ids are numeric strings)")
        send.media = (kind, media_id)
    elif not isinstance(link, str) or not link.startswith(("http://", "https://")):
        raise _invalid(f"{kind}.link", f"{link!r} is not an http(s) URL")
    if kind in CAPTIONED:
        caption = _text(node, "caption", f"{kind}.caption", limit=MAX_CAPTION, required=False)
        if caption:
            send.texts.append(caption)
    elif "caption" in node:
        raise GraphError(100, f"Param {kind}.caption is not supported for {kind} messages.")
    if kind == "document":
        _text(node, "filename", "document.filename", limit=240, required=False)


def _template_texts(components: Any, send: Send) -> int:
    if components is None:
        return 0
    if not isinstance(components, list):
        raise _invalid("template.components", "must be a list")
    body_params = 0
    for index, component in enumerate(components):
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise _invalid(f"template.components[{index}].type", "is required")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise _invalid(f"template.components[{index}].parameters", "must be a list")
        for parameter in parameters:
            if not isinstance(parameter, dict) or not isinstance(parameter.get("type"), str):
                raise _invalid(f"template.components[{index}].parameters[].type", "is required")
            for key in ("text", "payload"):
                value = parameter.get(key)
                if isinstance(value, str):
                    send.texts.append(value)
            if component["type"] == "body":
                body_params += 1
    return body_params


def _parse_template(body: dict[str, Any], send: Send) -> None:
    node = _node(body, "template")
    name = _text(node, "name", "template.name", limit=512) or ""
    language = node.get("language")
    if not isinstance(language, dict):
        raise _missing("template.language")
    code = _text(language, "code", "template.language.code", limit=16) or ""
    send.template = (name, code, _template_texts(node.get("components"), send))


def _parse_interactive(body: dict[str, Any], send: Send) -> None:
    node = _node(body, "interactive")
    kind = node.get("type")
    if kind not in INTERACTIVE_TYPES:
        raise _invalid("interactive.type", f"must be one of {sorted(INTERACTIVE_TYPES)}, got {kind!r}")
    action = node.get("action")
    if kind != "location_request_message" and not isinstance(action, dict):
        raise _missing("interactive.action")
    inner = node.get("body")
    if inner is not None:
        if not isinstance(inner, dict):
            raise _invalid("interactive.body", "must be an object")
        send.texts.append(_text(inner, "text", "interactive.body.text", limit=MAX_TEXT) or "")
    elif kind in ("button", "list"):
        raise _missing("interactive.body")
    if kind == "button":
        _check_buttons(action)  # type: ignore[arg-type]
    elif kind == "list":
        _check_list(action)  # type: ignore[arg-type]


def _check_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise _missing("interactive.action.buttons")
    if len(buttons) > MAX_BUTTONS:
        raise _invalid("interactive.action.buttons", f"at most {MAX_BUTTONS} buttons, got {len(buttons)}")
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise _missing("interactive.action.buttons[].reply")
        _text(reply, "id", "interactive.action.buttons[].reply.id", limit=256)
        _text(reply, "title", "interactive.action.buttons[].reply.title", limit=20)


def _check_list(action: dict[str, Any]) -> None:
    _text(action, "button", "interactive.action.button", limit=20)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _missing("interactive.action.sections")
    rows = 0
    for section in sections:
        section_rows = section.get("rows") if isinstance(section, dict) else None
        if not isinstance(section_rows, list) or not section_rows:
            raise _missing("interactive.action.sections[].rows")
        for row in section_rows:
            if not isinstance(row, dict):
                raise _invalid("interactive.action.sections[].rows[]", "must be an object")
            _text(row, "id", "interactive.action.sections[].rows[].id", limit=200)
            _text(row, "title", "interactive.action.sections[].rows[].title", limit=24)
            _text(row, "description", "interactive.action.sections[].rows[].description", limit=72, required=False)
        rows += len(section_rows)
    if rows > MAX_LIST_ROWS:
        raise _invalid("interactive.action.sections", f"at most {MAX_LIST_ROWS} rows in all sections, got {rows}")


def _parse_location(body: dict[str, Any], send: Send) -> None:
    node = _node(body, "location")
    for key, bound in (("latitude", 90.0), ("longitude", 180.0)):
        value = node.get(key)
        if value is None:
            raise _missing(f"location.{key}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _invalid(f"location.{key}", f"{value!r} is not a number") from None
        if not -bound <= number <= bound:
            raise _invalid(f"location.{key}", f"{value!r} is outside ±{bound:g}")
    for key in ("name", "address"):
        text = _text(node, key, f"location.{key}", limit=1_000, required=False)
        if text:
            send.texts.append(text)


def _parse_contacts(body: dict[str, Any], send: Send) -> None:
    contacts = body.get("contacts")
    if contacts is None:
        raise _missing("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise _invalid("contacts", "must be a non-empty list")
    for contact in contacts:
        name = contact.get("name") if isinstance(contact, dict) else None
        if not isinstance(name, dict) or not isinstance(name.get("formatted_name"), str):
            raise _missing("contacts[].name.formatted_name")


def _parse_reaction(body: dict[str, Any], send: Send) -> None:
    node = _node(body, "reaction")
    message_id = node.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise _missing("reaction.message_id")
    emoji = node.get("emoji")
    if not isinstance(emoji, str) or len(emoji) > 16:
        raise _invalid("reaction.emoji", "must be one emoji, or an empty string to remove a reaction")
    send.context_message_id = send.context_message_id or message_id


_PARSERS = {
    "text": _parse_text,
    "template": _parse_template,
    "interactive": _parse_interactive,
    "location": _parse_location,
    "contacts": _parse_contacts,
    "reaction": _parse_reaction,
    **dict.fromkeys(MEDIA_TYPES, _parse_media),
}
