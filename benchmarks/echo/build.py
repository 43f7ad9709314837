"""Compile the load client (``client.c``) once per version of its source, into a cache
directory outside the repository.

The binary's name carries a hash of the source and of the compiler command, so an edit
to ``client.c`` is picked up, and concurrent workers never see a half-written file (each
compiles to a private temporary name and renames it into place).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "client.c"
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")


class CompilerMissingError(RuntimeError):
    """No C compiler: the tcp-echo workloads cannot run here."""


def compiler() -> list[str]:
    """The C compiler command: ``$CC`` if set, else ``gcc``, else ``cc``.

    Raises CompilerMissingError, saying what to install, if there is none.
    """
    configured = os.environ.get("CC")
    if configured:
        command = shlex.split(configured)
        if shutil.which(command[0]) is None:
            raise CompilerMissingError(f"$CC is {configured!r}, which is not on PATH")
        return command
    for name in ("gcc", "cc"):
        if shutil.which(name) is not None:
            return [name]
    raise CompilerMissingError(
        "the tcp-echo benchmark compiles its load client (benchmarks/echo/client.c) "
        "and needs a C compiler: install gcc, or point $CC at one"
    )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "nursery-benchmarks"


def build_client() -> Path:
    """Return the path of the compiled client, compiling it first if needed."""
    return build(SOURCE, "echo-client")


def build(source_path: Path, stem: str) -> Path:
    """Return the path of ``source_path`` compiled, compiling it first if needed (into
    the cache, as ``stem`` plus a hash of the source and the compiler command)."""
    command = compiler()
    source = source_path.read_bytes()
    digest = hashlib.sha256(source + repr((command, CFLAGS)).encode()).hexdigest()[:16]
    directory = cache_dir()
    binary = directory / f"{stem}-{digest}"
    if binary.exists():
        return binary
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=binary.name + ".", dir=directory)
    os.close(handle)
    try:
        completed = subprocess.run(
            [*command, *CFLAGS, "-o", temporary, str(source_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"compiling {source_path.name} failed:\n{completed.stdout}{completed.stderr}"
            )
        os.chmod(temporary, 0o755)  # mkstemp made it 0600; the linker may keep that
        os.replace(temporary, binary)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return binary


if __name__ == "__main__":
    print(build_client())
