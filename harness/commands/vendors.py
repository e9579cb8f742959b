"""``scrmbench vendors``: check a vendor profile before a trial, list the adapters.

    scrmbench vendors check vendors/twilio-facade.yaml --launch
    scrmbench vendors check vendors/acme.yaml --to +4915112345678 --i-own-this-target

For a hosted vendor (``can_point_at_mock: false``, ``launch.kind: none``) every test message reaches a real
WhatsApp user, so ``--to`` must be one of the profile's ``recipients`` (the buyer's own test phones; default: the
first) and a profile without them is refused (exit 2). Otherwise the messages reach the mock only, and ``--to``
defaults to a number in the fictional +1 555 01xx range.

``check`` validates the profile (bad input: exit 2 with file, line, field, value and fix), refuses a target that
is neither loopback nor allowlisted and confirmed, then runs the contract smoke test (``harness.smoke``): one
call per declared operation, shown as a table. Exit 0 when every declared operation was called and passed; 1
when the vendor failed one, or one could not be exercised (``not exercised``, e.g. ``assign_conversation`` with
no conversation id: pass ``--conversation ID``); 6 when nothing listens at the profile's ``base_url`` (said once,
with the fix: start the vendor, or ``--launch`` when the profile says what to start), instead of a table of
refused connections.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from ground.errors import ConfigError, VendorUnreachable
from ground.secrets import redact
from harness.adapters import registry
from harness.adapters.executors import connect
from harness.adapters.registry import load_profile
from harness.config.profiles import VendorProfile
from harness.smoke import NOT_EXERCISED, CheckRow, smoke_test

_STYLE = {"ok": "green", NOT_EXERCISED: "magenta", "failed": "red", "indeterminate": "yellow"}
_PHONE_FIX = "give an E.164 number such as +4915112345678"
CHECK_EPILOG = """Examples:

  scrmbench vendors check vendors/reference-steady.yaml --launch

  scrmbench vendors check vendors/twilio-facade.yaml --launch --to +4915112345678

  scrmbench vendors check vendors/my-vendor.yaml --i-own-this-target
"""


def _table(profile: VendorProfile, rows: list[CheckRow]) -> Table:
    table = Table(title=f"{profile.name} ({profile.adapter}) at {profile.base_url}", title_justify="left")
    for column in ("operation", "result", "HTTP", "ms", "vendor id", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = _STYLE.get(row.result, "")
        table.add_row(
            row.operation,
            f"[{style}]{row.result}[/]",
            str(row.http_status or ""),
            "" if row.latency_ms is None else f"{row.latency_ms:.0f}",
            row.vendor_id,
            # A vendor's error text is untrusted: escape rich markup and scrub secrets it may echo.
            redact(row.detail).replace("[", r"\["),
        )
    return table


def refused(base_url: str, *, timeout_s: float = 3.0) -> bool:
    """True when a TCP connect to ``base_url``'s host and port is refused: nothing listens there.

    One connect, nothing sent. Any other outcome (it connects, times out, the name does not resolve) is False:
    the contract check itself then shows what happens.
    """
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def unreachable(profile: VendorProfile, source: str | None = None) -> VendorUnreachable:
    kind = profile.launch.kind
    if kind == "none":
        fix = "start the vendor so it answers there, or correct base_url"
    else:
        fix = f"start the vendor, or add --launch to have scrmbench start it (the profile's launch.kind is '{kind}')"
    return VendorUnreachable(
        f"nothing listens at {profile.base_url} (the profile's base_url): the connection was refused",
        source=source,
        field="base_url",
        value=profile.base_url,
        fix=fix,
    )


def run_check(
    profile: VendorProfile,
    *,
    to: str,
    owner_confirmed: bool,
    console: Console,
    conversation: str | None = None,
    source: str | None = None,
) -> list[CheckRow]:
    client = connect(profile, owner_confirmed=owner_confirmed)  # the target check comes first
    try:
        if refused(profile.base_url):  # said once, with the fix, instead of a table of refused connections
            raise unreachable(profile, source)
        rows = smoke_test(client, to=to, conversation_id=conversation)
    finally:
        close = getattr(client.executor, "close", None)
        if close is not None:
            close()
    console.print(_table(profile, rows))
    return rows


def check_recipient(profile: VendorProfile, to: str | None, *, source: str | None = None) -> str:
    """The number ``vendors check`` sends its test messages to (``VendorProfile.test_recipient``)."""
    return profile.test_recipient(to, source=source)


def check(
    file: Path = typer.Argument(..., help="The vendor profile (YAML)."),
    launch: bool = typer.Option(False, "--launch", help="Start the mock and the profile's local vendor first."),
    to: str | None = typer.Option(
        None,
        "--to",
        help="Recipient for the test messages. A hosted vendor (cannot point at the mock): one of the profile's "
        "recipients, default the first. Otherwise default +15550100001 (only the mock receives it).",
    ),
    conversation: str | None = typer.Option(
        None, "--conversation", help="A conversation id for assign_conversation (else the first one search finds)."
    ),
    i_own_this_target: bool = typer.Option(
        False, "--i-own-this-target", help="Confirm you own (or may test) a non-loopback allowlisted target."
    ),
) -> None:
    """Validate a vendor profile, then call each declared operation once and show the outcomes."""
    if to is not None and (not to.lstrip("+").isdigit() or not 7 <= len(to.lstrip("+")) <= 15):
        raise ConfigError("not a phone number", field="--to", value=to, fix=_PHONE_FIX)
    profile = load_profile(file)
    to = check_recipient(profile, to, source=str(file))  # refused before anything is sent
    console = Console()
    console.print(f"[green]valid[/] {file}: profile '{profile.name}', adapter '{profile.adapter}'")
    owned = i_own_this_target
    if launch:
        from harness.stack.local import local_stack

        with (
            tempfile.TemporaryDirectory(prefix="scrmbench-check-") as workdir,
            local_stack(profile, Path(workdir)) as effective,
        ):
            rows = run_check(effective, to=to, owner_confirmed=owned, console=console, conversation=conversation)
    else:
        rows = run_check(
            profile, to=to, owner_confirmed=owned, console=console, conversation=conversation, source=str(file)
        )
    failed = [row.operation for row in rows if row.exercised and not row.passed]
    unexercised = [row.operation for row in rows if not row.exercised]
    if failed:
        console.print(f"[red]contract check failed[/] for: {', '.join(failed)}")
    if unexercised:
        console.print(f"[magenta]contract check incomplete[/]: not exercised: {', '.join(unexercised)} (see detail)")
    if failed or unexercised:
        raise typer.Exit(1)
    console.print(f"[green]contract check passed[/]: {len(rows)} operation(s)")


def adapters() -> None:
    """List the built-in adapters and the operations each offers."""
    table = Table(title="adapters", title_justify="left")
    for column in ("name", "operations", "auth", "what"):
        table.add_column(column, overflow="fold")
    for name in registry.names():
        spec = registry.get(name)
        table.add_row(name, ", ".join(sorted(spec.operations)), ", ".join(sorted(spec.auth_schemes)), spec.summary)
    Console().print(table)


def register(app: typer.Typer) -> None:
    vendors_app = typer.Typer(help="Vendor profiles: validate and contract-check them.", no_args_is_help=True)
    vendors_app.command("check", epilog=CHECK_EPILOG)(check)
    vendors_app.command("adapters", epilog="Example:\n\n  scrmbench vendors adapters")(adapters)
    app.add_typer(vendors_app, name="vendors")
