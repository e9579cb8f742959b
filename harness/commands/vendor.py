"""``scrmbench vendor``: serve the reference SCRM (one profile, an HA pair, or a front) and seed its database."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import typer

from ground.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, ConfigError, ScrmbenchError
from ground.net import check_target, is_loopback, port_parser
from mocks.vendors.profiles import DEFAULT_TIME_SCALE, PROFILES

serve_app = typer.Typer(help="Serve a reference vendor, an HA pair, or an HA front on loopback.", no_args_is_help=True)
vendor_app = typer.Typer(help="Reference SCRM vendors with known behaviour.", no_args_is_help=True)
vendor_app.add_typer(serve_app, name="serve")

PROFILE_HELP = f"Profile: {', '.join(sorted(PROFILES))}."
SET_HELP = "Override a setting, KEY=VALUE (JSON value), repeatable; e.g. --set workers=2 --set retry.enabled=false."


def _check_host(host: str, allow_non_loopback: bool) -> None:
    if is_loopback(host):
        return
    if not allow_non_loopback:
        raise ConfigError(
            "the reference vendor binds loopback only by default",
            field="--host",
            value=host,
            fix="use 127.0.0.1, or pass --allow-non-loopback if you mean to expose it",
        )
    logging.getLogger("scrmbench").warning("binding %s: the reference vendor is reachable from other hosts", host)


def check_outbound(url: str, field: str, allow_non_loopback: bool) -> None:
    """Refuse an outbound URL (the Graph API the vendor relays every send to, a front's backend) that is not
    loopback, unless ``--allow-non-loopback``: under load these processes forward every request, with the access
    token, to it (``https://graph.facebook.com`` would be Meta)."""
    if allow_non_loopback:
        return
    check_target(
        url,
        field=field,
        fix="point it at the mock or a vendor on 127.0.0.1, or pass --allow-non-loopback if it is a host you run "
        "for this test (a container's or pod's own network, as deploy/kubernetes does)",
    )


def _serve(app: object, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)  # type: ignore[arg-type]


@serve_app.command(
    "reference",
    epilog="""Examples:

  scrmbench vendor serve reference

  scrmbench vendor serve reference --profile lossy --port 8911 --db lossy.sqlite3
""",
)
def serve_reference(
    profile: str = typer.Option("steady", help=PROFILE_HELP),
    host: str = typer.Option("127.0.0.1", help="Bind address (loopback unless --allow-non-loopback)."),
    port: int = typer.Option(8910, parser=port_parser(), metavar="PORT", help="TCP port (1 to 65535)."),
    whatsapp_url: str = typer.Option("http://127.0.0.1:8900", help="Graph API base URL (the mock by default)."),
    db: Path = typer.Option(Path("reference-vendor.sqlite3"), help="SQLite database file (shared by an HA pair)."),
    role: str = typer.Option("single", help="single, primary or standby (a standby waits to be promoted)."),
    instance: str = typer.Option("ref-1", help="Instance name, used as the outbox lease owner."),
    time_scale: float = typer.Option(DEFAULT_TIME_SCALE, help="Compression of the research's durations."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    allow_non_loopback: bool = typer.Option(
        False, help="Allow a non-loopback --host (prints a warning) and a non-loopback --whatsapp-url."
    ),
) -> None:
    """Serve one reference SCRM instance."""
    from mocks.vendors.app import create_vendor_app
    from mocks.vendors.config import build_settings, parse_assignments

    _check_host(host, allow_non_loopback)
    overrides = parse_assignments(set_)
    overrides.update({"whatsapp_url": whatsapp_url, "db_path": str(db), "role": role, "instance": instance})
    settings, _ = build_settings(profile, overrides, time_scale=time_scale)
    # After --set, which may name them too: every URL the vendor sends to is checked before it starts.
    check_outbound(settings.whatsapp_url, "--whatsapp-url", allow_non_loopback)
    for route in settings.shard_routes.values():
        check_outbound(route, "shard_routes", allow_non_loopback)
    _serve(create_vendor_app(settings), host, port)


@serve_app.command(
    "front",
    epilog="""Example:

  scrmbench vendor serve front --backend http://127.0.0.1:8911 --backend http://127.0.0.1:8912
""",
)
def serve_front(
    backend: list[str] = typer.Option(..., help="Backend base URL, primary first; repeat for the standby."),
    profile: str = typer.Option("fast-failover", help="Profile whose front settings to use."),
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8920, parser=port_parser(), metavar="PORT", help="TCP port (1 to 65535)."),
    time_scale: float = typer.Option(DEFAULT_TIME_SCALE, help="Compression of the research's durations."),
    set_: list[str] = typer.Option([], "--set", help="Front overrides, e.g. --set front.interval_s=0.2."),
    allow_non_loopback: bool = typer.Option(False, help="Allow a non-loopback --host and non-loopback --backend URLs."),
) -> None:
    """Serve the embedded HA front over already running backends."""
    from mocks.vendors.config import build_settings, parse_assignments
    from mocks.vendors.front import create_front_app
    from mocks.vendors.settings import API_KEY_ENV, FrontSettings

    _check_host(host, allow_non_loopback)
    if len(backend) < 2:
        raise ConfigError(
            "a front needs a primary and a standby", field="--backend", value=backend, fix="give --backend twice"
        )
    for url in backend:
        check_outbound(url, "--backend", allow_non_loopback)
    _, front = build_settings(profile, parse_assignments(set_), time_scale=time_scale)
    api_key = os.environ.get(API_KEY_ENV, "reference-api-key")
    _serve(create_front_app(front or FrontSettings(), backend, api_key=api_key), host, port)


@serve_app.command(
    "ha-pair",
    epilog="""Examples:

  scrmbench vendor serve ha-pair

  scrmbench vendor serve ha-pair --profile slow-failover --time-scale 0.01
""",
)
def serve_ha_pair(
    profile: str = typer.Option("fast-failover", help="fast-failover or slow-failover."),
    port: int = typer.Option(
        8920,
        parser=port_parser(),
        metavar="PORT",
        help="Port of the front, 1 to 65535 (the instances take free ports).",
    ),
    whatsapp_url: str = typer.Option("http://127.0.0.1:8900", help="Graph API base URL."),
    db: Path = typer.Option(Path("reference-ha.sqlite3"), help="The database both instances share."),
    time_scale: float = typer.Option(DEFAULT_TIME_SCALE, help="0.01 turns 47 minutes of manual failover into 28 s."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP + " Keys under front. go to the front."),
    log_dir: Path | None = typer.Option(None, help="Write each process's output here."),
) -> None:
    """Serve primary + standby + front until interrupted; prints the pids so a fault can kill the primary."""
    from mocks.vendors.config import parse_assignments
    from mocks.vendors.launch import launch_ha_pair
    from mocks.vendors.profiles import is_ha_profile

    if not is_ha_profile(profile):
        raise ConfigError(
            "not an HA profile", field="--profile", value=profile, fix="use fast-failover or slow-failover"
        )
    check_outbound(whatsapp_url, "--whatsapp-url", allow_non_loopback=False)  # the pair runs on loopback only
    overrides = parse_assignments(set_)
    front_overrides = overrides.pop("front", {})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pair = launch_ha_pair(
        profile, whatsapp_url=whatsapp_url, db_path=db, port=port, overrides=overrides,
        front_overrides=front_overrides, time_scale=time_scale, log_dir=log_dir,
    )  # fmt: skip
    try:
        typer.echo(f"front   {pair.base_url} (pid {pair.front.pid})")
        typer.echo(f"primary {pair.primary.base_url} (pid {pair.primary.pid})")
        typer.echo(f"standby {pair.standby.base_url} (pid {pair.standby.pid})")
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        pair.stop()


@vendor_app.command(
    "seed",
    epilog="""Examples:

  scrmbench vendor seed --conversations 1000

  scrmbench vendor seed --conversations 100000 --tag vip --seed 7
""",
)
def seed(
    conversations: int = typer.Option(..., min=1, help="How many conversations to generate."),
    db: Path = typer.Option(Path("reference-vendor.sqlite3"), help="SQLite database file."),
    messages_per_conversation: int = typer.Option(3, min=1, max=50, help="Messages in each conversation."),
    tag: str | None = typer.Option(None, help="Tag every seeded contact (a broadcast segment)."),
    seed_value: int = typer.Option(0, "--seed", help="Random seed (same seed, same data)."),
) -> None:
    """Generate N conversations with Faker, in bulk (a million in minutes)."""
    from mocks.vendors.seed import seed_database

    report = seed_database(
        db, conversations, messages_per_conversation=messages_per_conversation, tag=tag, seed=seed_value
    )
    typer.echo(
        f"seeded {report.conversations} conversations, {report.messages} messages into {db} "
        f"in {report.seconds:.1f} s ({report.rows_per_s:,.0f} rows/s)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(vendor_app, name="vendor")


def main(argv: list[str] | None = None) -> int:
    """Only the vendor commands, for ``python -m harness.commands.vendor``: launch.py starts processes this way
    because the full CLI imports the analysis stack (seconds per process on a busy machine)."""
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
    register(app)
    try:
        result = app(args=argv, standalone_mode=False)
    except ScrmbenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        if "ClickException" in {cls.__name__ for cls in type(exc).__mro__}:
            exc.show()  # type: ignore[attr-defined]
            return EXIT_BAD_INPUT
        raise
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    from ground.orphans import exit_with_parent

    exit_with_parent()  # stop when the harness that started us is gone
    sys.exit(main())
