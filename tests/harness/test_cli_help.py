"""Every command's ``--help`` ends with examples, and every example names a command and options that exist.

Examples are read from each command's epilog (the text ``--help`` prints), checked to appear in the rendered
help, and parsed with click's own ``make_context`` (options, arguments and their types) without running them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from harness.cli import build_app

# typer may ship its own copy of click (typer._click): go by what a command has, not by click's classes.
ROOT = typer.main.get_command(build_app())


def is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def subcommand(group: Any, name: str) -> Any:
    return group.get_command(group.context_class(group), name)


def leaves(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if is_group(group):
        for name in sorted(group.list_commands(group.context_class(group))):
            command = subcommand(group, name)
            assert command is not None
            yield from leaves(command, (*path, name))
    else:
        yield path, group


COMMANDS = dict(leaves(ROOT))


def examples(command: Any) -> list[str]:
    return [line.strip() for line in (command.epilog or "").splitlines() if line.strip().startswith("scrmbench ")]


def parse(example: str) -> tuple[tuple[str, ...], Any]:
    """Resolve the example's command path and parse its options and arguments as the CLI would."""
    tokens = shlex.split(example)
    assert tokens[0] == "scrmbench"
    args, command, path = tokens[1:], ROOT, []
    while is_group(command):
        assert args, f"{example!r} stops at the group {' '.join(path) or 'scrmbench'}"
        name = args.pop(0)
        sub = subcommand(command, name)
        assert sub is not None, f"{example!r}: no command {name!r} under {' '.join(path) or 'scrmbench'}"
        command, path = sub, [*path, name]
    return tuple(path), command.make_context(" ".join(["scrmbench", *path]), args)


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(build_app(), [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # long examples may wrap at the terminal width


def test_the_tree_has_the_commands_we_document() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"run", "score", "compare", "vendors check", "mock serve", "scenarios list", "proxy serve"} <= names
    assert {"vendor serve reference", "vendor serve front", "vendor serve ha-pair", "vendor seed"} <= names


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda path: " ".join(path))
def test_every_command_help_shows_examples_that_parse(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    found = examples(command)
    assert found, f"`scrmbench {' '.join(path)} --help` has no example"
    shown = help_text(path)
    assert re.search(r"\bExamples?:", shown)
    for example in found:
        assert " ".join(example.split()) in shown, example
        parsed_path, context = parse(example)
        assert parsed_path == path, f"{example!r} is shown under {' '.join(path)} but runs {' '.join(parsed_path)}"
        assert not context.args, f"{example!r} has extra arguments {context.args}"


@pytest.mark.parametrize(
    "bad",
    [
        "scrmbench run --vendor vendors/reference-steady.yaml --scenario peak --no-such-option",
        "scrmbench run --scenario peak",  # --vendor is required
        "scrmbench score results/x --recovery-window zero",
        "scrmbench vendors nope",
    ],
)
def test_the_checker_rejects_a_broken_example(bad: str) -> None:
    with pytest.raises(Exception) as caught:
        parse(bad)
    names = {cls.__name__ for cls in type(caught.value).__mro__}
    assert names & {"UsageError", "AssertionError"}, caught.value
