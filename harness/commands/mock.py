"""``scrmbench mock serve``: run the mock WhatsApp Cloud API on loopback.

    scrmbench mock serve [--host 127.0.0.1] [--port 8900] [--config mock.yaml] [--workers N]

With ``--workers N`` the mock runs N processes sharded by phone number id (see ``mocks/whatsapp/sharding.py``):
shard i listens on port + i and owns every phone number whose index in the config is i modulo N, so each
number's limiters live in exactly one process. The shard map is printed at start.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ground.errors import ConfigError
from ground.loading import load_model
from ground.net import is_loopback
from mocks.whatsapp.config import MockConfig

SERVE_EPILOG = """Examples:

  scrmbench mock serve

  scrmbench mock serve --port 8901

  scrmbench mock serve --config mock.yaml --workers 4

--workers N needs at least N phone numbers in the config (phone_numbers:).
"""


def load_config(path: Path | None, host: str | None, port: int | None) -> MockConfig:
    config = load_model(MockConfig, path) if path is not None else MockConfig()
    update: dict[str, object] = {}
    if host is not None:
        update["host"] = host
    if port is not None:
        update["port"] = port
    return config.model_copy(update=update).with_environment()


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default 8900).", min=0, max=65535),
    config: Path | None = typer.Option(None, "--config", help="Mock config YAML (see README, 'Mock WhatsApp API')."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Processes, sharded by phone number id."),
    allow_external: bool = typer.Option(
        False, "--allow-external", help="Allow binding a non-loopback address (the mock has no real security)."
    ),
) -> None:
    """Serve the mock WhatsApp Cloud API (Graph routes and the /_mock/ control plane)."""
    from mocks.whatsapp.sharding import serve_sharded, serve_single

    mock_config = load_config(config, host, port)
    if not is_loopback(mock_config.host):
        if not allow_external:
            raise ConfigError(
                "the mock binds loopback only unless told otherwise",
                field="--host",
                value=mock_config.host,
                fix="use 127.0.0.1, or pass --allow-external if you really mean to expose it",
            )
        typer.secho(
            f"warning: the mock listens on {mock_config.host}, reachable from other hosts", fg="yellow", err=True
        )
    if workers == 1:
        serve_single(mock_config)
    else:
        serve_sharded(mock_config, workers)


def register(app: typer.Typer) -> None:
    mock_app = typer.Typer(help="The mock WhatsApp Cloud API.", no_args_is_help=True)
    mock_app.command("serve", epilog=SERVE_EPILOG)(serve)
    app.add_typer(mock_app, name="mock")
