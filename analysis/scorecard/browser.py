"""Headless Chromium for the scorecard: print to PDF, take a screenshot, read the DOM after the scripts ran.

Chromium is optional: ``find_chromium()`` returns None when it is absent and callers say so plainly. It is
started with a fresh empty profile, no network features and a hard timeout, and only ever opens a local file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ground.errors import HarnessError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
QUIET_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_chromium() -> str | None:
    override = os.environ.get("SCRMBENCH_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _flags() -> list[str]:
    flags = list(QUIET_FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox on
    return flags


def run_chromium(page: Path, extra: list[str], *, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Open a local page in a throwaway profile and return Chromium's output (stdout is the DOM when dumped)."""
    binary = find_chromium()
    if binary is None:
        raise HarnessError("Chromium is not installed; install it (Debian: apt-get install chromium) for --pdf")
    with tempfile.TemporaryDirectory(prefix="scrmbench-chromium-") as profile:
        args = [binary, *_flags(), f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"Chromium did not finish within {timeout_s:.0f} s on {page}") from exc


def print_pdf(page: Path, pdf: Path) -> Path:
    """The page as A4 PDF through its print stylesheet."""
    done = run_chromium(
        page,
        [
            f"--print-to-pdf={pdf.resolve()}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=15000",
            "--run-all-compositor-stages-before-draw",
        ],
    )
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise HarnessError(f"Chromium wrote no PDF (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    return pdf


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2000) -> Path:
    done = run_chromium(
        page,
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=15000",
            "--run-all-compositor-stages-before-draw",
        ],
    )
    if not png.is_file():
        raise HarnessError(f"Chromium took no screenshot (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    return png


def dump_dom(page: Path) -> subprocess.CompletedProcess[str]:
    """The DOM after the page's scripts ran; console messages go to stderr with ``--enable-logging``."""
    return run_chromium(page, ["--dump-dom", "--virtual-time-budget=15000", "--enable-logging=stderr", "--v=0"])
