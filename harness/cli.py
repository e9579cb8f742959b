"""The ``scrmbench`` command: parse, build a typed config, call a library function, map to an exit code.

Each command group lives in its own module under ``harness/commands/`` and exposes ``register(app)``; this
module only wires them and maps errors to exit codes (see ``ground.errors``):
0 ok / SLA met, 1 SLA failed, 2 bad input, 3 harness error, 4 partial run, 5 inconclusive, 6 the vendor does not
listen at its address (``vendors check``), 130 interrupted.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import typer
from rich.console import Console
from rich.markup import escape

from ground.errors import EXIT_BAD_INPUT, EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, ScrmbenchError
from ground.orphans import exit_with_parent
from ground.secrets import install_log_redaction, redact
from harness import __version__

# Modules under harness/commands/ that add commands; each has ``register(app: typer.Typer) -> None``.
COMMAND_MODULES: tuple[str, ...] = (
    "mock",
    "vendor",
    "score",
    "compare",
    "vendors",
    "report",
    "run",
    "proxy",
    "calibrate",
)

_DEBUG = {"on": False}


def _root_callback(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs (secrets stay redacted)."),
) -> None:
    """scrmbench: load and reliability trials of WhatsApp SCRM systems, scored against SLA targets."""
    _DEBUG["on"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # secrets read from the environment never reach a log line, even with --debug


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="scrmbench",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    app.callback()(_root_callback)

    @app.command(epilog="Example:\n\n  scrmbench version")
    def version() -> None:
        """Print the scrmbench version."""
        typer.echo(__version__)

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"harness.commands.{module_name}")
        module.register(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; ScrmbenchErrors become one clear line and their exit code, never a traceback."""
    console = Console(stderr=True)
    app = build_app()
    try:
        result = app(args=argv, standalone_mode=False)
    except ScrmbenchError as exc:
        if _DEBUG["on"]:
            console.print(redact(traceback.format_exc()), markup=False, highlight=False)
        console.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_HARNESS_ERROR
    except Exception as exc:
        # typer may ship its own click; match its exceptions by name so either copy is handled.
        names = {cls.__name__ for cls in type(exc).__mro__}
        if "Exit" in names:
            return int(getattr(exc, "exit_code", 0))
        if "ClickException" in names:
            exc.show()  # type: ignore[attr-defined]
            return EXIT_BAD_INPUT
        if "Abort" in names:
            return EXIT_INTERRUPTED
        if _DEBUG["on"]:
            console.print(redact(traceback.format_exc()), markup=False, highlight=False)
        else:
            detail = escape(redact(f"{type(exc).__name__}: {exc}"))
            console.print(f"[bold red]internal error:[/] {detail} (run with --debug for details)")
        return EXIT_HARNESS_ERROR
    # With standalone_mode off, click hands back typer.Exit's code as the return value.
    return result if isinstance(result, int) else 0


def run() -> None:
    exit_with_parent()  # a server started by a harness stops when that harness dies, even by SIGKILL
    sys.exit(main())


if __name__ == "__main__":
    run()
