"""``Path``: ``pathlib`` with async methods for everything that touches the file system.

A ``Path`` is a ``pathlib.PurePath``: the pure operations (``/``, ``name``, ``parent``,
``with_suffix``, ``joinpath``, ...) stay synchronous and give ``Path`` objects back. Each
method that asks the operating system runs the ``pathlib.Path`` method of the same name
in a worker thread (``to_thread.run_sync``), so it is async and a checkpoint; methods
that answer with paths answer with ``Path`` objects.

``iterdir``, ``glob`` and ``rglob`` list the whole directory (or match) in the thread
and return an iterator over the list: iterating lazily would go back to the disk
between items, from the run's thread.
"""

from __future__ import annotations

import inspect
import os
import pathlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    BinaryIO,
    Literal,
    ParamSpec,
    Self,
    TypeVar,
    final,
    overload,
)

from . import to_thread
from ._file_io import AsyncIOWrapper, open_file

if TYPE_CHECKING:
    import io

    from _typeshed import (
        OpenBinaryMode,
        OpenBinaryModeReading,
        OpenBinaryModeUpdating,
        OpenBinaryModeWriting,
        OpenTextMode,
        ReadableBuffer,
        StrPath,
    )

P = ParamSpec("P")
T = TypeVar("T")


async def _in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    if kwargs:
        return await to_thread.run_sync(partial(fn, *args, **kwargs))
    return await to_thread.run_sync(fn, *args)


class Path(pathlib.PurePath):
    """An async ``pathlib.Path``: its file-system methods are async and run in a worker
    thread. ``Path(...)`` makes a ``PosixPath`` (nursery runs on Linux only)."""

    __slots__ = ()

    def __new__(cls, *args: StrPath) -> Self:
        concrete: type[Path] = PosixPath if cls is Path else cls
        return pathlib.PurePath.__new__(concrete, *args)  # type: ignore[return-value]

    def _sync(self) -> pathlib.Path:
        """The same path as a ``pathlib.Path``, for the worker thread to use."""
        return pathlib.Path(self)

    def _list_of(self, paths: Iterable[pathlib.Path]) -> list[Self]:
        # Runs in the worker thread: the disk is read while the list is built.
        return [type(self)(path) for path in paths]

    def __repr__(self) -> str:
        return f"nursery.Path({str(self)!r})"

    # -- where to start ------------------------------------------------------------------

    @classmethod
    async def cwd(cls) -> Self:
        """The current working directory, as an absolute ``Path``."""
        return cls(await _in_thread(os.getcwd))

    @classmethod
    async def home(cls) -> Self:
        """The user's home directory."""
        return cls(await _in_thread(os.path.expanduser, "~"))

    # -- paths from paths ----------------------------------------------------------------

    async def absolute(self) -> Self:
        """This path made absolute (against the current directory), not normalized."""
        return type(self)(await _in_thread(self._sync().absolute))

    async def resolve(self, strict: bool = False) -> Self:
        """This path made absolute, with symlinks and ``..`` resolved."""
        return type(self)(await _in_thread(self._sync().resolve, strict))

    async def expanduser(self) -> Self:
        """This path with a leading ``~`` or ``~user`` expanded."""
        return type(self)(await _in_thread(self._sync().expanduser))

    async def readlink(self) -> Self:
        """Where this symbolic link points."""
        return type(self)(await _in_thread(self._sync().readlink))

    # -- listing -------------------------------------------------------------------------

    async def iterdir(self) -> Iterator[Self]:
        """The entries of this directory (read in full before returning): use it as
        ``for child in await path.iterdir():``."""
        return iter(await _in_thread(self._list_of, self._sync().iterdir()))

    async def glob(self, pattern: str) -> Iterator[Self]:
        """The paths under this directory that match ``pattern`` (found in full before
        returning)."""
        return iter(await _in_thread(self._list_of, self._sync().glob(pattern)))

    async def rglob(self, pattern: str) -> Iterator[Self]:
        """Like ``glob`` with ``**/`` in front of ``pattern``: matches at any depth."""
        return iter(await _in_thread(self._list_of, self._sync().rglob(pattern)))

    # -- asking about the file -----------------------------------------------------------

    async def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        """``os.stat()`` of this path."""
        return await _in_thread(self._sync().stat, follow_symlinks=follow_symlinks)

    async def lstat(self) -> os.stat_result:
        """Like ``stat``, but of a symbolic link itself rather than its target."""
        return await _in_thread(self._sync().lstat)

    async def owner(self) -> str:
        """The name of the user that owns the file."""
        return await _in_thread(self._sync().owner)

    async def group(self) -> str:
        """The name of the group that owns the file."""
        return await _in_thread(self._sync().group)

    async def exists(self) -> bool:
        """Whether the path exists (a broken symlink does not)."""
        return await _in_thread(self._sync().exists)

    async def is_dir(self) -> bool:
        """Whether the path is a directory (or a symlink to one)."""
        return await _in_thread(self._sync().is_dir)

    async def is_file(self) -> bool:
        """Whether the path is a regular file (or a symlink to one)."""
        return await _in_thread(self._sync().is_file)

    async def is_symlink(self) -> bool:
        """Whether the path is a symbolic link."""
        return await _in_thread(self._sync().is_symlink)

    async def is_mount(self) -> bool:
        """Whether the path is a mount point."""
        return await _in_thread(self._sync().is_mount)

    async def is_socket(self) -> bool:
        """Whether the path is a Unix socket (or a symlink to one)."""
        return await _in_thread(self._sync().is_socket)

    async def is_fifo(self) -> bool:
        """Whether the path is a named pipe (or a symlink to one)."""
        return await _in_thread(self._sync().is_fifo)

    async def is_block_device(self) -> bool:
        """Whether the path is a block device (or a symlink to one)."""
        return await _in_thread(self._sync().is_block_device)

    async def is_char_device(self) -> bool:
        """Whether the path is a character device (or a symlink to one)."""
        return await _in_thread(self._sync().is_char_device)

    async def samefile(self, other_path: StrPath) -> bool:
        """Whether this path and ``other_path`` are the same file."""
        # As a plain string: pathlib would call other_path.stat(), which on a
        # nursery.Path is a coroutine function.
        return await _in_thread(self._sync().samefile, os.fspath(other_path))

    # -- reading and writing -------------------------------------------------------------

    @overload
    async def open(
        self,
        mode: OpenTextMode = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> AsyncIOWrapper[io.TextIOWrapper]: ...
    @overload
    async def open(
        self,
        mode: OpenBinaryMode,
        buffering: Literal[0],
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> AsyncIOWrapper[io.FileIO]: ...
    @overload
    async def open(
        self,
        mode: OpenBinaryModeUpdating,
        buffering: Literal[-1, 1] = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> AsyncIOWrapper[io.BufferedRandom]: ...
    @overload
    async def open(
        self,
        mode: OpenBinaryModeWriting,
        buffering: Literal[-1, 1] = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> AsyncIOWrapper[io.BufferedWriter]: ...
    @overload
    async def open(
        self,
        mode: OpenBinaryModeReading,
        buffering: Literal[-1, 1] = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> AsyncIOWrapper[io.BufferedReader]: ...
    @overload
    async def open(
        self,
        mode: OpenBinaryMode,
        buffering: int = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> AsyncIOWrapper[BinaryIO]: ...
    @overload
    async def open(
        self,
        mode: str,
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> AsyncIOWrapper[IO[Any]]: ...
    async def open(
        self,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> AsyncIOWrapper[Any]:
        """Open the file, as ``open_file(path, ...)`` does: returns an asynchronous
        file object."""
        return await open_file(self, mode, buffering, encoding, errors, newline)

    async def read_bytes(self) -> bytes:
        """The whole file, as bytes."""
        return await _in_thread(self._sync().read_bytes)

    async def read_text(self, encoding: str | None = None, errors: str | None = None) -> str:
        """The whole file, decoded."""
        return await _in_thread(self._sync().read_text, encoding, errors)

    async def write_bytes(self, data: ReadableBuffer) -> int:
        """Replace the file's contents with ``data``; returns the count written."""
        return await _in_thread(self._sync().write_bytes, data)

    async def write_text(
        self,
        data: str,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> int:
        """Replace the file's contents with ``data``, encoded."""
        return await _in_thread(self._sync().write_text, data, encoding, errors, newline)

    # -- changing the file system --------------------------------------------------------

    async def touch(self, mode: int = 0o666, exist_ok: bool = True) -> None:
        """Create the file, or update its modification time if it exists."""
        await _in_thread(self._sync().touch, mode, exist_ok)

    async def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Create this directory (and its missing parents with ``parents=True``)."""
        await _in_thread(self._sync().mkdir, mode, parents, exist_ok)

    async def chmod(self, mode: int, *, follow_symlinks: bool = True) -> None:
        """Change the file's permission bits."""
        await _in_thread(self._sync().chmod, mode, follow_symlinks=follow_symlinks)

    async def lchmod(self, mode: int) -> None:
        """Like ``chmod``, but of a symbolic link itself; Linux cannot change a link's
        mode (``NotImplementedError``), so on Linux this works only on other files."""
        await _in_thread(self._sync().lchmod, mode)

    async def unlink(self, missing_ok: bool = False) -> None:
        """Remove this file or symbolic link."""
        await _in_thread(self._sync().unlink, missing_ok)

    async def rmdir(self) -> None:
        """Remove this (empty) directory."""
        await _in_thread(self._sync().rmdir)

    async def rename(self, target: StrPath) -> Self:
        """Rename to ``target``; returns the new path."""
        return type(self)(await _in_thread(self._sync().rename, target))

    async def replace(self, target: StrPath) -> Self:
        """Rename to ``target``, replacing it if it exists; returns the new path."""
        return type(self)(await _in_thread(self._sync().replace, target))

    async def symlink_to(self, target: StrPath, target_is_directory: bool = False) -> None:
        """Make this path a symbolic link to ``target``."""
        await _in_thread(self._sync().symlink_to, target, target_is_directory)

    async def hardlink_to(self, target: StrPath) -> None:
        """Make this path a hard link to the same file as ``target``."""
        await _in_thread(self._sync().hardlink_to, target)


def _point_to_pathlib(cls: type[Path]) -> None:
    # help() and IDEs show where each async method comes from.
    for name, member in vars(cls).items():
        function = getattr(member, "__func__", member)
        if inspect.iscoroutinefunction(function):
            function.__doc__ = (
                f"{function.__doc__}\n\nThe async version of ``pathlib.Path.{name}``: it "
                "runs in a worker thread."
            )


_point_to_pathlib(Path)


@final
class PosixPath(Path, pathlib.PurePosixPath):
    """The concrete ``Path`` of POSIX systems: what ``Path(...)`` makes."""

    __slots__ = ()
