"""``scrmbench proxy serve``: the chaos proxy as a process, with its Toxiproxy-style control API.

    scrmbench proxy serve --listen 127.0.0.1:9001 --upstream 127.0.0.1:8001 [--name vendor] [--api-port 8474]
                          [--seed N]

Without ``--listen``/``--upstream`` it serves only the API; proxies are then created with ``POST /proxies``.
Everything binds loopback. ``GET /version`` on the API port answers once the proxy is ready (use it as the
health URL). Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import typer
import uvicorn

from ground.errors import ConfigError, HarnessError
from harness.faults.proxy.api import create_api_app
from harness.faults.proxy.errors import ApiError
from harness.faults.proxy.loop import run
from harness.faults.proxy.server import ProxyCollection

SERVE_EPILOG = """Examples:

  scrmbench proxy serve --listen 127.0.0.1:9001 --upstream 127.0.0.1:8910

  scrmbench proxy serve --listen 127.0.0.1:9001 --upstream 127.0.0.1:8910 --seed 7

  scrmbench proxy serve --api-port 8475
"""


async def _serve(name: str, listen: str | None, upstream: str | None, api_port: int, seed: int | None) -> None:
    collection = ProxyCollection(seed=seed)
    try:
        if listen and upstream:
            proxy = await collection.create(name, listen, upstream)
            typer.echo(f"proxy {name}: {proxy.listen} -> {proxy.upstream}")
        config = uvicorn.Config(create_api_app(collection), host="127.0.0.1", port=api_port, log_level="warning")
        typer.echo(f"control API: http://127.0.0.1:{api_port}")
        await uvicorn.Server(config).serve()  # returns on SIGINT/SIGTERM
    except ApiError as exc:
        if exc.status == 400:
            raise ConfigError(exc.message, field="--listen/--upstream", fix="use loopback host:port") from None
        raise HarnessError(f"cannot start proxy {name!r}: {exc.message}") from None
    finally:
        await collection.close()


def serve(
    listen: str | None = typer.Option(None, "--listen", help="Address the proxy listens on, e.g. 127.0.0.1:9001."),
    upstream: str | None = typer.Option(None, "--upstream", help="Address it relays to, e.g. 127.0.0.1:8001."),
    name: str = typer.Option("default", "--name", help="Proxy name in the control API."),
    api_port: int = typer.Option(8474, "--api-port", min=0, max=65535, help="Control API port (127.0.0.1)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for toxicity draws and jitter (replayable chaos)."),
) -> None:
    """Serve a TCP chaos proxy with latency, bandwidth, timeout, reset and other toxics."""
    if (listen is None) != (upstream is None):
        raise ConfigError(
            "give both --listen and --upstream, or neither",
            field="--listen" if listen is None else "--upstream",
            fix="add the missing option, or drop both and create proxies through the API",
        )
    run(_serve(name, listen, upstream, api_port, seed))


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The chaos proxy (Toxiproxy-style toxics) in front of a candidate.", no_args_is_help=True)
    group.command("serve", epilog=SERVE_EPILOG)(serve)
    app.add_typer(group, name="proxy")
