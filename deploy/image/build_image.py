"""Build a local Docker image without any registry: assemble a root filesystem, then ``docker import`` it.

    python deploy/image/build_image.py busybox [--tag scrmbench-busybox:local]
    python deploy/image/build_image.py python  [--tag scrmbench-python:local]
    python deploy/image/build_image.py runtime

``busybox``: one static busybox binary (Debian package ``busybox-static``) and its applet links, an ``/www``
page for ``busybox httpd``. A few MB, built in a second; the container-fault tests use it.

``python``: this interpreter, its standard library, the shared libraries ``ldd`` finds for it and for the
compiled extension modules, and this virtual environment's site-packages (scrmbench itself included, as the
editable install points at the source tree, which is copied too). Big (hundreds of MB) but needs nothing from
outside this machine; run the reference vendor or the mock in it with host networking.

``runtime``: what ``launch.kind: container`` runs the reference vendor in (``harness.stack.image``): only the
system libraries this interpreter links against; the interpreter, the venv and the source are mounted read-only
when a container starts. A few MB, tagged by content (``scrmbench-runtime:<key>``); ``scrmbench run`` builds it
by itself when missing, this only builds it ahead of time and prints its tag.

Nothing is ever pulled: ``docker import`` reads the tarball we made. Images carry the label
``org.scrmbench.image=true``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Not org.scrmbench.managed: containers inherit image labels, and that label must mark only containers the
# harness itself started (harness/faults/container.py run_managed), never everything run from this image.
LABEL = "org.scrmbench.image=true"
ROOT = Path(__file__).resolve().parents[2]
BUSYBOX_APPLETS = ("sh", "httpd", "wget", "sleep", "cat", "ls", "echo", "kill", "true", "false", "nc")


class BuildError(RuntimeError):
    pass


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable with no program interpreter (``PT_INTERP``): it needs no shared libraries.

    Read from the file itself, so it needs neither ``file`` nor ``ldd`` on the machine.
    """
    try:
        with path.open("rb") as handle:
            ident = handle.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                return False
            wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
            if wide:
                (phoff,) = struct.unpack_from(order + "Q", ident, 32)
                phentsize, phnum = struct.unpack_from(order + "HH", ident, 54)
            else:
                (phoff,) = struct.unpack_from(order + "I", ident, 28)
                phentsize, phnum = struct.unpack_from(order + "HH", ident, 42)
            handle.seek(phoff)
            table = handle.read(phentsize * phnum)
    except OSError:
        return False
    if phentsize < 4 or len(table) < phentsize * phnum:
        return False
    pt_interp = 3
    return all(struct.unpack_from(order + "I", table, i * phentsize)[0] != pt_interp for i in range(phnum))


def find_busybox() -> Path:
    """A static busybox (Debian's busybox-static installs one at /bin/busybox); a dynamic one cannot be copied."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        path = Path(candidate)
        if path.exists() and is_static_elf(path.resolve()):
            return path
    raise BuildError(
        "no static busybox found; install the Debian package busybox-static (apt-get install busybox-static)"
    )


def busybox_rootfs(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    shutil.copy2(find_busybox(), root / "bin" / "busybox")
    for applet in BUSYBOX_APPLETS:
        (root / "bin" / applet).symlink_to("busybox")
    (root / "www").mkdir()
    (root / "www" / "index.html").write_text("scrmbench test container\n")
    (root / "tmp").mkdir()
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")


def shared_libraries(binaries: Iterable[Path]) -> set[Path]:
    """Every shared library ``ldd`` reports for the given binaries, plus the dynamic loader."""
    libs: set[Path] = set()
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
        for match in re.finditer(r"(/\S+\.so[^\s]*)", out):
            libs.add(Path(match.group(1)))
    return {lib for lib in libs if lib.exists()}


def _copy(src: Path, root: Path) -> None:
    """Copy a file into the root filesystem at its real path, and keep the path it was found by as a link."""
    src = Path(os.path.normpath(src))
    real = src.resolve()
    dest = root / real.relative_to("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(dest):
        shutil.copy2(real, dest)
    link = root / src.relative_to("/")
    if src != real and not os.path.lexists(link):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(real)


def python_rootfs(root: Path) -> None:
    interpreter = Path(sys.executable).resolve()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    # The interpreter's own site-packages is not ours (the virtual environment's is copied below).
    ignore = shutil.ignore_patterns("test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages")
    shutil.copytree(stdlib, root / stdlib.relative_to("/"), symlinks=True, ignore=ignore)
    shutil.copytree(purelib, root / purelib.relative_to("/"), symlinks=True)
    for source_dir in ("ground", "plan", "harness", "mocks", "analysis", "scenarios", "vendors"):
        shutil.copytree(
            ROOT / source_dir, root / ROOT.relative_to("/") / source_dir, ignore=shutil.ignore_patterns("__pycache__")
        )
    # What `locust -f locustfile.py --vendor vendors/...` in deploy/ needs beside the packages.
    shutil.copy2(ROOT / "locustfile.py", root / ROOT.relative_to("/") / "locustfile.py")
    _copy(interpreter, root)
    extensions = [*(so for so in stdlib.rglob("*.so") if "site-packages" not in so.parts), *purelib.rglob("*.so")]
    for lib in shared_libraries([interpreter, *extensions]):
        _copy(lib, root)
    (root / "usr" / "local" / "bin").mkdir(parents=True, exist_ok=True)
    (root / "usr" / "local" / "bin" / "python").symlink_to(interpreter)
    (root / "tmp").mkdir(exist_ok=True)
    busybox_rootfs_extras(root)


def busybox_rootfs_extras(root: Path) -> None:
    """A shell and a few tools in the Python image too (health checks, debugging)."""
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy2(find_busybox(), root / "bin" / "busybox")
    for applet in BUSYBOX_APPLETS:
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")


def import_image(root: Path, tag: str, changes: Iterable[str]) -> str:
    """Tar the root filesystem and ``docker import`` it; returns the image id."""
    if shutil.which("docker") is None:
        raise BuildError("the docker command is not installed (apt-get install docker.io)")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for entry in sorted(root.iterdir()):
            tar.add(entry, arcname=entry.name)
    args = ["docker", "import"]
    for change in [f"LABEL {LABEL}", *changes]:
        args += ["--change", change]
    before = _image_id(tag)
    done = subprocess.run([*args, "-", tag], input=buffer.getvalue(), capture_output=True, check=False, timeout=600)
    if done.returncode != 0:
        raise BuildError(f"docker import failed: {done.stderr.decode(errors='replace').strip()}")
    image_id = done.stdout.decode().strip()
    if before and before != image_id:
        # The tag moved: drop the old image unless a container still uses it (rmi refuses then; that is fine).
        subprocess.run(["docker", "rmi", before], capture_output=True, check=False, timeout=60)
    return image_id


def _image_id(tag: str) -> str:
    done = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], capture_output=True, check=False)
    return done.stdout.decode().strip() if done.returncode == 0 else ""


def build(kind: str, tag: str) -> str:
    with tempfile.TemporaryDirectory(prefix=f"scrmbench-{kind}-rootfs-") as tmp:
        root = Path(tmp)
        if kind == "busybox":
            busybox_rootfs(root)
            changes = ['CMD ["/bin/busybox", "httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]']
        elif kind == "python":
            python_rootfs(root)
            env_path = f"PATH=/usr/local/bin:{Path(sys.executable).parent}:/bin"
            # No pyvenv.cfg in the image: the venv's site-packages and the source tree go on PYTHONPATH instead.
            purelib = sysconfig.get_paths()["purelib"]
            changes = [f"ENV {env_path}", f"ENV PYTHONPATH={ROOT}:{purelib}", f"WORKDIR {ROOT}", 'CMD ["python", "-V"]']
        else:
            raise BuildError(f"unknown image kind {kind!r}; use busybox or python")
        return import_image(root, tag, changes)


def build_runtime() -> str:
    """The runtime image's content tag, built now if missing (the runner does the same before a container run)."""
    from ground.errors import FaultError
    from harness.faults.container import docker_client
    from harness.stack.image import ensure_runtime_image

    try:
        client = docker_client()
        try:
            return ensure_runtime_image(client)
        finally:
            client.close()
    except FaultError as exc:
        raise BuildError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["busybox", "python", "runtime"])
    parser.add_argument("--tag", default=None, help="image tag (default scrmbench-<kind>:local; runtime: by content)")
    args = parser.parse_args(argv)
    try:
        if args.kind == "runtime":
            if args.tag:
                raise BuildError("the runtime image is tagged by its content; drop --tag")
            image_id = build_runtime()
        else:
            image_id = build(args.kind, args.tag or f"scrmbench-{args.kind}:local")
    except (BuildError, OSError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(image_id)
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
