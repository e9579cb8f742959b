"""Secrets come only from environment variables, and their values never leave the process in clear.

A profile names the environment variables (``auth.token_env: WATI_TOKEN``); ``read_secret`` reads one and
remembers its value in a ``SecretRegistry`` so every later output path can scrub it: the logging filter, the
recorder's error texts, the manifest, exception messages shown by the CLI. Values shorter than
``MIN_SECRET_LENGTH`` are not registered, because scrubbing "1" from every log line would do more harm than good.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ground.errors import ConfigError

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4

# Keys whose values are secret by their name alone (headers, form fields, JSON keys), whatever the value.
_SECRET_KEY = re.compile(r"(authorization|api[-_]?key|token|secret|password|signature)", re.IGNORECASE)


class SecretRegistry:
    """The set of secret values this process has read; thread-safe, append-only."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                # Longest first, so a secret that contains another one is replaced whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(item) for item in ordered))

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)

    def redact_data(self, data: Any) -> Any:
        """A deep copy of JSON-like ``data`` with secret values, and values under secret-named keys, redacted."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, Mapping):
            return {
                key: (REDACTED if _is_secret_key(key, value) else self.redact_data(value))
                for key, value in data.items()
            }
        if isinstance(data, list | tuple):
            return [self.redact_data(item) for item in data]
        return data


def _is_secret_key(key: object, value: object) -> bool:
    # Keys naming an environment variable (token_env, api_key_env) hold a name, not a secret: keep them visible.
    return (
        isinstance(key, str) and isinstance(value, str) and bool(_SECRET_KEY.search(key)) and not key.endswith("_env")
    )


# The process-wide registry: secrets are read once per process and every output path must see them.
REGISTRY = SecretRegistry()


def read_secret(
    env_name: str,
    *,
    source: str | None = None,
    field: str | None = None,
    fallback: str | None = None,
    environ: Mapping[str, str] | None = None,
    registry: SecretRegistry = REGISTRY,
) -> str:
    """The value of ``env_name``, registered for redaction; ``fallback`` only when the variable is unset."""
    env = os.environ if environ is None else environ
    value = env.get(env_name)
    if value is None or value == "":
        if fallback is None:
            raise ConfigError(
                f"the environment variable {env_name} is not set",
                source=source,
                field=field,
                value=env_name,
                fix=f"export {env_name}=... in the shell that runs scrmbench (secrets are never read from files)",
            )
        value = fallback
    registry.add(value)
    return value


def redact(text: str, registry: SecretRegistry = REGISTRY) -> str:
    return registry.redact(text)


def redact_data(data: Any, registry: SecretRegistry = REGISTRY) -> Any:
    return registry.redact_data(data)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to print: secret-named ones replaced whatever their value."""
    return {name: (REDACTED if _SECRET_KEY.search(name) else value) for name, value in headers.items()}


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs registered secrets from the message and its arguments."""

    def __init__(self, registry: SecretRegistry = REGISTRY) -> None:
        super().__init__()
        self.registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.registry.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, scrubbed, so a handler never formats the raw exception text.
            formatter = logging.Formatter()
            record.exc_text = self.registry.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def install_log_redaction(
    loggers: Iterable[logging.Logger] | None = None, registry: SecretRegistry = REGISTRY
) -> RedactingFilter:
    """Attach one RedactingFilter to the handlers of the root logger (and any ``loggers`` given).

    Filters on handlers see records from every child logger, which logger-level filters would not.
    """
    redacting = RedactingFilter(registry)
    targets = [logging.getLogger(), *(loggers or ())]
    for logger in targets:
        for handler in logger.handlers:
            if not any(isinstance(item, RedactingFilter) for item in handler.filters):
                handler.addFilter(redacting)
    return redacting
