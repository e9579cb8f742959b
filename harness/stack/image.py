"""The runtime image ``launch.kind: container`` runs the reference vendor in, built here, never pulled.

A few MB: the system shared libraries this machine's Python and its extension modules link against (as ``ldd``
finds them), the dynamic loader, ``/etc/passwd`` and an empty ``/tmp``. The interpreter itself, the virtual
environment and the project's source are bind-mounted read-only at their own paths when a container starts
(:func:`runtime_mounts`), so the image never goes stale against the code and needs nothing from a registry:
``docker import`` (the engine's ``/images/create?fromSrc=-``) reads the tarball assembled here.

The tag is a content key (``scrmbench-runtime:<12 hex>``) over the interpreter's path and the names, sizes and
modification times of the interpreter and of every compiled extension module; a run finds the image by that tag
and builds it only when it is missing (a second or two of ``ldd``, then an import of a few MB).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ground.errors import FaultError

REPOSITORY = "scrmbench-runtime"
IMAGE_LABEL = "org.scrmbench.image=true"  # as deploy/image: never org.scrmbench.managed (containers inherit it)
LAYOUT_VERSION = "1"  # bump when the image's layout changes, so cached images are rebuilt
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LD_CACHE = Path("/etc/ld.so.cache")
_LIB = re.compile(r"(/\S+\.so[^\s:]*)")


def python_roots() -> tuple[Path, ...]:
    """What the container needs mounted to run this interpreter: its prefix, the venv, the project's source."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), PROJECT_ROOT}
    # Only the outermost of nested folders (a .venv inside the project is covered by the project's mount).
    return tuple(sorted(r for r in roots if not any(o != r and r.is_relative_to(o) for o in roots)))


def runtime_mounts(rw: Iterable[Path] = ()) -> dict[str, dict[str, str]]:
    """The docker SDK ``volumes`` argument: the Python roots read-only, ``rw`` folders writable, same paths."""
    mounts = {str(root): {"bind": str(root), "mode": "ro"} for root in python_roots()}
    for folder in rw:
        real = str(Path(folder).resolve())
        mounts[real] = {"bind": real, "mode": "rw"}
    return mounts


def _extension_modules() -> Iterator[Path]:
    seen: set[str] = set()
    for key in ("platstdlib", "stdlib", "purelib", "platlib"):
        base = Path(sysconfig.get_paths()[key])
        if str(base) in seen or not base.is_dir():
            continue
        seen.add(str(base))
        yield from base.rglob("*.so*")


def _binaries() -> list[Path]:
    return [Path(sys.executable).resolve(), LD_CACHE, *sorted(_extension_modules())]


def runtime_tag(binaries: Iterable[Path] | None = None) -> str:
    """``scrmbench-runtime:<key>``: changes when the interpreter or any extension module changes."""
    digest = hashlib.sha256(f"{LAYOUT_VERSION}\n{Path(sys.executable).resolve()}\n".encode())
    for path in binaries if binaries is not None else _binaries():
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return f"{REPOSITORY}:{digest.hexdigest()[:12]}"


def _ldd(binary: Path) -> set[Path]:
    try:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    return {Path(found) for line in out.splitlines() for found in _LIB.findall(line.split("=>")[-1])}


def system_libraries(binaries: Iterable[Path]) -> set[Path]:
    """Shared libraries outside the mounted Python roots (those come with the mounts), loader included."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = set().union(*pool.map(_ldd, binaries))
    roots = python_roots()
    return {lib for lib in found if lib.exists() and not any(lib.resolve().is_relative_to(r) for r in roots)}


def _folders(tar: tarfile.TarFile, path: Path, added: set[str]) -> None:
    for parent in reversed(path.parents[:-1]):
        if str(parent) not in added:
            added.add(str(parent))
            info = tarfile.TarInfo(str(parent).lstrip("/"))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)


def _add(tar: tarfile.TarFile, path: Path, added: set[str]) -> None:
    """The file at its real path, and the path it was found by (``/lib/...`` on merged-/usr) linked to it."""
    path = Path(os.path.normpath(path))
    real = path.resolve()
    if str(real) not in added:
        _folders(tar, real, added)
        added.add(str(real))
        tar.add(real, arcname=str(real).lstrip("/"), recursive=False)
    if path != real and str(path) not in added:
        _folders(tar, path, added)
        added.add(str(path))
        info = tarfile.TarInfo(str(path).lstrip("/"))
        info.type, info.linkname = tarfile.SYMTYPE, str(real)
        tar.addfile(info)


def _small_file(tar: tarfile.TarFile, name: str, text: str = "", *, folder: bool = False) -> None:
    info = tarfile.TarInfo(name)
    if folder:
        info.type, info.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(info)
        return
    data = text.encode()
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def runtime_rootfs(libraries: Iterable[Path]) -> bytes:
    """The image's root filesystem as an uncompressed tarball."""
    buffer = io.BytesIO()
    added: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _small_file(tar, "tmp", folder=True)
        _small_file(tar, "etc", folder=True)
        added.update({"/tmp", "/etc"})
        _small_file(tar, "etc/passwd", "root:x:0:0:root:/:/nonexistent\n")
        _small_file(tar, "etc/group", "root:x:0:\n")
        for lib in sorted(libraries):
            _add(tar, lib, added)
        if LD_CACHE.exists():  # the host's soname -> path map; the libraries sit at the same paths here
            _add(tar, LD_CACHE, added)
    return buffer.getvalue()


def ensure_runtime_image(client: Any) -> str:
    """The runtime image's tag, built now if this machine does not have it yet (never pulled)."""
    import docker

    binaries = _binaries()
    tag = runtime_tag(binaries)
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.DockerException as exc:
        raise FaultError(f"cannot look up the runtime image {tag}: {exc}") from exc
    if shutil.which("ldd") is None:
        raise FaultError("ldd is not installed, so the runtime image cannot be assembled; install libc-bin")
    rootfs = runtime_rootfs(system_libraries(binaries))
    repository, version = tag.split(":")
    try:
        client.api.import_image_from_data(
            rootfs, repository=repository, tag=version, changes=[f"LABEL {IMAGE_LABEL}", "ENV HOME=/tmp"]
        )
        client.images.get(tag)
    except docker.errors.DockerException as exc:
        raise FaultError(f"building the runtime image {tag} (docker import) failed: {exc}") from exc
    return tag
