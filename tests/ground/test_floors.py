"""The floors are kept by import-linter (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``): the
contracts hold on the tree, and a forbidden import added to the ground floor breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ground", "plan", "harness", "mocks", "analysis", "scenarios")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (Path(sys.executable).parent / "lint-imports").exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_floors_hold_and_a_forbidden_import_breaks_them(tree: Path) -> None:
    kept = _lint_imports(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    clock = tree / "ground" / "clock.py"
    clock.write_text(clock.read_text(encoding="utf-8") + "\nimport harness.runner  # noqa\n", encoding="utf-8")
    broken = _lint_imports(tree)
    assert broken.returncode != 0
    assert "The ground floor imports nothing else of ours BROKEN" in " ".join(broken.stdout.split())
