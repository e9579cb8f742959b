"""Tests that need a system package skip with the reason, or fail naming the Debian package when CI is set; CI
installs every one of them, and the README's quick start names them all in one command."""

from __future__ import annotations

import runpy
import struct
from pathlib import Path

import pytest

from tests.fixtures.common import SYSTEM_PACKAGES, in_ci, require_system

ROOT = Path(__file__).resolve().parents[2]


def test_a_present_package_lets_the_test_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert require_system("wrk", True, "the bench drives the mock with wrk") is None


@pytest.mark.parametrize("value", [None, "", "0", "false", "no"])
def test_a_missing_package_skips_with_the_reason_outside_ci(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_system("nginx-light", False, "the HA-pair front is exercised with a real nginx")
    assert "the HA-pair front is exercised with a real nginx" in str(skipped.value)
    assert "sudo apt-get install -y nginx-light" in str(skipped.value)


@pytest.mark.parametrize("value", ["true", "1", "yes", "github"])
def test_a_missing_package_fails_naming_it_in_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception) as failed:
        require_system("busybox-static", False, "the container-fault image needs a static busybox")
    assert "busybox-static" in str(failed.value) and "CI is set" in str(failed.value)


def test_an_unknown_package_name_is_a_mistake_in_the_test() -> None:
    with pytest.raises(ValueError, match="unknown system package"):
        require_system("busybox", False, "typo")


def test_ci_installs_and_the_readme_names_every_system_package() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert f"sudo apt-get install -y {' '.join(SYSTEM_PACKAGES)}" in quick_start
    for package in SYSTEM_PACKAGES:
        assert f"need+=({package})" in ci
        assert f"`{package}`" in quick_start  # with the tests that need it


def _elf64(program_types: list[int]) -> bytes:
    """A minimal little-endian ELF64 header and program header table with the given segment types."""
    phoff, phentsize = 64, 56
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, phoff, 0, 0, 64, phentsize, len(program_types), 0, 0, 0)
    table = b"".join(struct.pack("<II", kind, 0) + bytes(phentsize - 8) for kind in program_types)
    return header + table


def test_a_static_busybox_is_told_from_a_dynamic_one_without_the_file_command(tmp_path: Path) -> None:
    is_static_elf = runpy.run_path(str(ROOT / "deploy" / "image" / "build_image.py"))["is_static_elf"]
    static, dynamic, script = tmp_path / "static", tmp_path / "dynamic", tmp_path / "script"
    static.write_bytes(_elf64([1, 1]))  # PT_LOAD only
    dynamic.write_bytes(_elf64([6, 3, 1]))  # PT_PHDR, PT_INTERP, PT_LOAD
    script.write_text("#!/bin/sh\n")
    assert is_static_elf(static)
    assert not is_static_elf(dynamic)
    assert not is_static_elf(script)
    assert not is_static_elf(tmp_path / "absent")
