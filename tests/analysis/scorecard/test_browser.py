"""The scorecard as a manager's browser shows it: headless Chromium renders a real page; every chart has data,
no script fails, and text a hostile vendor sent is shown as text and runs nothing."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from analysis.scorecard import make_scorecard, render
from analysis.scorecard.browser import dump_dom, find_chromium, screenshot
from tests.fixtures.browser_checks import console_problems, html_attributes
from tests.fixtures.common import require_system
from tests.fixtures.scorecard import vendor_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_system("chromium", find_chromium() is not None, "these tests render the scorecard in headless Chromium")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_real_scorecard_renders_every_chart_with_data(bakeoff_runs: list[Path], tmp_path: Path) -> None:
    media = vendor_run(
        bakeoff_runs[0].parent / "steady-media", vendor="steady", scenario="media-burst", operation="upload_media"
    )
    card = make_scorecard([*bakeoff_runs, media])
    page = render.write(card, tmp_path / "scorecard.html")
    assert len(card.charts) >= 7  # failover: latency, throughput, CDF; media-burst: the same and upload failures

    done = dump_dom(page)
    attrs = html_attributes(done.stdout)
    assert attrs.get("data-ready") == "1", "the page's script never finished"
    assert attrs["data-charts"] == str(len(card.charts))
    assert attrs["data-charts-drawn"] == str(len(card.charts)), f"empty charts: {attrs['data-charts-empty']}"
    assert attrs["data-js-errors"] == "0"
    assert console_problems(done.stderr) == []
    strip = done.stdout.split('id="verdicts"')[1].split("</section>")[0]
    assert re.findall(r'class="badge">(\w+)<', strip) == ["PASS", "CONDITIONAL", "FAIL"]
    assert strip.count('class="why"') == 3

    shot = screenshot(page, tmp_path / "scorecard.png", width=1280, height=2000)
    assert png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 60_000  # a blank page compresses to a few kB; a drawn scorecard does not


def test_hostile_vendor_text_executes_nothing(results_dir: Path, tmp_path: Path) -> None:
    sneaky_name = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','name')\">"
    sneaky_error = "<script>document.documentElement.setAttribute('data-pwned','error')</script>\"'&"
    runs = [
        vendor_run(results_dir / "evil", vendor=sneaky_name, lost=3, error_text=sneaky_error),
        vendor_run(results_dir / "fine", vendor="steady"),
    ]
    card = make_scorecard(runs)
    page = render.write(card, tmp_path / "evil.html")
    html = page.read_text(encoding="utf-8")
    assert "<script>document" not in html and "<img src=x" not in html

    done = dump_dom(page)
    attrs = html_attributes(done.stdout)
    assert "data-pwned" not in attrs, f"vendor text ran as script: data-pwned={attrs.get('data-pwned')}"
    assert attrs["data-js-errors"] == "0" and attrs["data-charts-drawn"] == attrs["data-charts"]
    assert console_problems(done.stderr) == []
    # Shown, as text: in the verdict strip, the errors table and the message-id column.
    assert "&lt;img src=x onerror=" in done.stdout
    assert "&lt;script&gt;document.documentElement" in done.stdout
    assert '<img src="x"' not in done.stdout and "<img src=x" not in done.stdout
