"""Paths a user hands a command: one run's results folder to read, a file to write.

Both are checked before any work is done, so a wrong path is bad input (``ConfigError``, exit 2) that names the
option, the path and the fix, never a ``FileNotFoundError`` or ``NotADirectoryError`` from deep inside a command.
"""

from __future__ import annotations

import os
from pathlib import Path

from ground.errors import ConfigError

RUN_FOLDER_FIX = "give one run's results folder, results/RUN_ID (ls results/ lists them)"


def run_folder(path: Path | str, *, field: str = "RUN_DIR") -> Path:
    """``path`` as a ``Path`` when it is an existing folder; a ``ConfigError`` naming ``field`` otherwise."""
    folder = Path(path)
    if folder.is_dir():
        return folder
    what = "is a file, not a folder" if folder.exists() else "does not exist"
    raise ConfigError(f"the results folder {what}", field=field, value=str(folder), fix=RUN_FOLDER_FIX)


def output_file(path: Path | str, *, field: str = "--output") -> Path:
    """Make the folder ``path`` will be written in and check it can be written; a ``ConfigError`` naming
    ``field`` when ``path`` is a folder, or when its folder cannot be made or written (a file in the way, no
    permission, a read-only disk)."""
    target = Path(path)
    fix = "give a file path whose folder exists or can be created, and that you may write"
    if target.is_dir():
        raise ConfigError(
            "this is a folder, not a file", field=field, value=str(target), fix=f"{fix}, e.g. {target / 'out'}"
        )
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), parent)
        raise ConfigError(
            f"its folder cannot be made: {blocker} is a file", field=field, value=str(target), fix=fix
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"its folder {parent} cannot be made ({exc.strerror or type(exc).__name__})",
            field=field,
            value=str(target),
            fix=fix,
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"its folder {parent} cannot be written", field=field, value=str(target), fix=fix)
    return target
