from __future__ import annotations

import subprocess
import sys

from harness import __version__
from harness.cli import main


def test_version_in_process(capsys) -> None:
    assert main(["version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["no-such-command"]) == 2


def test_console_script_runs_as_a_process() -> None:
    done = subprocess.run([sys.executable, "-m", "harness.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "scrmbench" in done.stdout
