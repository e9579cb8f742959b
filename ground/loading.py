"""Load YAML safely and validate it with pydantic; every error names file, line, field, bad value and the fix.

Used for every file a user hands us (vendor profiles, SLA files, mock and fault configs), so the messages look
the same everywhere:

    vendors/acme.yaml:7: field 'timeouts.send_text' has value -3. Input should be greater than 0.
    Fix: give a positive number of seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ground.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)

_FIX_BY_ERROR_TYPE = {
    "extra_forbidden": "remove the key or check its spelling against the documented fields",
    "missing": "add the field",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
    "literal_error": "use one of the values listed",
    "enum": "use one of the values listed",
    "int_parsing": "give a whole number",
    "float_parsing": "give a number",
    "bool_parsing": "give true or false",
    "string_type": "give a text value (quote it in YAML)",
    "url_parsing": "give a full URL such as http://127.0.0.1:8900",
    "dict_type": "give a mapping of key: value lines",
    "list_type": "give a list (lines starting with '- ')",
    "unknown_name": "use one of the names listed",
}


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers where each mapping key and value started."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise ConfigError(
                "the key appears twice",
                field=str(key),
                line=key_node.start_mark.line + 1,
                fix="keep one of the two entries",
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = value_node.start_mark.line + 1
    return _LinedDict(mapping, lines)


class _LinedDict(dict[Any, Any]):
    """A dict that knows the YAML line of each of its values."""

    def __init__(self, data: Mapping[Any, Any], lines: dict[Any, int]) -> None:
        super().__init__(data)
        self.lines = lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path | str) -> Any:
    """Parse a YAML file with the safe loader; a syntax error becomes a ConfigError with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("the file does not exist", source=str(path), fix="check the path") from exc
    except IsADirectoryError as exc:
        raise ConfigError("this is a folder, not a file", source=str(path), fix="give the YAML file's path") from exc
    except PermissionError as exc:
        raise ConfigError(
            "the file cannot be read (permission denied)",
            source=str(path),
            fix="make it readable by this user (chmod u+r) or copy it somewhere you can read",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the file is not UTF-8 text (byte {exc.start})", source=str(path), fix="save it as UTF-8 text"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"the file cannot be read ({exc.strerror or type(exc).__name__})",
            source=str(path),
            fix="check the path, the file's permissions and the disk",
        ) from exc
    return parse_yaml(text, source=str(path))


def parse_yaml(text: str, *, source: str = "<text>") -> Any:
    try:
        return yaml.load(text, Loader=_LineLoader)
    except ConfigError as exc:
        raise ConfigError(str(exc).split(". ", 1)[-1], source=source, field=exc.field, line=exc.line, fix=None) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"this is not valid YAML ({problem})",
            source=source,
            line=line,
            fix="check indentation and quoting on that line",
        ) from exc


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    line = None
    node = data
    for part in loc:
        if isinstance(node, _LinedDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            break
    return line


def _value_at(data: Any, loc: tuple[int | str, ...]) -> Any:
    node = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def validation_error(exc: ValidationError, data: Any, *, source: str) -> ConfigError:
    """Turn the first pydantic error into a ConfigError naming file, line, field, value and fix."""
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    field = ".".join(str(part) for part in loc) or "(top level)"
    value = first.get("input") if first["type"] != "missing" else None
    if value is None:
        value = _value_at(data, loc)
    if isinstance(value, Mapping):
        value = None  # a whole mapping is noise in a one-line message
    others = len(exc.errors()) - 1
    message = first["msg"] + (f" ({others} more problem{'s' if others > 1 else ''} after this one)" if others else "")
    fix = _FIX_BY_ERROR_TYPE.get(first["type"], "see the documented fields and examples")
    return ConfigError(message, source=source, field=field, value=value, fix=fix, line=_line_of(data, loc))


def validate(model: type[ModelT], data: Any, *, source: str) -> ModelT:
    """Validate already-parsed data against ``model``."""
    if data is None:
        raise ConfigError("the file is empty", source=source, fix="see the shipped examples")
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"expected a mapping of fields at the top level, found {type(data).__name__}",
            source=source,
            fix="start the file with 'name: ...' style lines",
        )
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise validation_error(exc, data, source=source) from None


def load_model(model: type[ModelT], path: Path | str) -> ModelT:
    """Read a YAML file and validate it against ``model``."""
    return validate(model, read_yaml(path), source=str(path))
