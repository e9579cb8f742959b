"""The floors are kept by import-linter (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``): the
contracts hold on the tree, none of them ignores an import, and a forbidden import added to the ground floor (or an
import cycle anywhere) breaks them. The tests follow the same layout: ``tests/<package>/...`` mirrors the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ground", "plan", "harness", "mocks", "analysis", "scenarios")
# Test folders that mirror a folder of the project that is not a Python package (scripts, deployment files), and
# the suite's own support (fixtures, and the test of its system-package skips).
NOT_PACKAGES = ("bench", "deploy", "fixtures")


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


def test_no_contract_ignores_an_import() -> None:
    """Every debt of issue #16 was paid by moving code; a new breach is fixed the same way, never listed here."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    ignoring = {c["name"]: c["ignore_imports"] for c in config["contracts"] if c.get("ignore_imports")}
    assert ignoring == {}


def test_an_import_cycle_breaks_the_build_and_names_the_import(tree: Path) -> None:
    net = tree / "ground" / "net.py"
    net_original = net.read_text(encoding="utf-8")
    net.write_text(net_original + "\nimport ground.orphans  # noqa\n", encoding="utf-8")
    orphans = tree / "ground" / "orphans.py"
    orphans_original = orphans.read_text(encoding="utf-8")
    orphans.write_text(orphans_original + "\nimport ground.net  # noqa\n", encoding="utf-8")
    try:
        broken = _lint_imports(tree)
    finally:
        net.write_text(net_original, encoding="utf-8")
        orphans.write_text(orphans_original, encoding="utf-8")
    output = " ".join(broken.stdout.split())
    assert broken.returncode != 0
    assert "No import cycles between sibling packages and modules BROKEN" in output
    assert "No cycles are allowed in ground" in output
    assert ".orphans -> .net" in output or ".net -> .orphans" in output  # the import to remove, named


def test_every_test_module_sits_under_the_package_it_tests() -> None:
    """``tests/harness/run/test_x.py`` tests ``harness/run/``: each test module's folder names a package that exists
    (or one of NOT_PACKAGES), so a newcomer finds a module's tests by its path and a moved package takes its tests."""
    misplaced = []
    for module in sorted((ROOT / "tests").rglob("test_*.py")):
        folder = module.parent.relative_to(ROOT / "tests")
        if not folder.parts:
            misplaced.append(f"{module.relative_to(ROOT)}: directly in tests/, under no package")
        elif folder.parts[0] in NOT_PACKAGES:
            if folder.parts[0] != "fixtures" and not (ROOT / folder).is_dir():
                misplaced.append(f"{module.relative_to(ROOT)}: no folder {folder}/")
        elif not (ROOT / folder / "__init__.py").is_file():
            misplaced.append(f"{module.relative_to(ROOT)}: no package {'.'.join(folder.parts)} ({folder}/__init__.py)")
    assert misplaced == []
