"""Asynchronous file objects: ``open_file``, ``wrap_file`` and ``AsyncIOWrapper``.

Disk I/O cannot be waited for with epoll (a regular file is always "ready"), so every
method that may block runs in a worker thread through ``to_thread.run_sync``, and the
task waits without blocking the run. Attributes that only read state already in memory
(``closed``, ``name``, ``fileno()``, ...) are passed straight through.

The wrapper exposes exactly what the wrapped object has: an attribute of one of the two
lists below is forwarded only if the file has it, so ``hasattr`` and ``dir()`` tell the
truth about the file underneath. The async versions of methods are made on first use
and kept on the instance.

Cancellation: a call already handed to a thread cannot be interrupted (Python cannot
stop a thread), so a cancelled call waits for its thread and returns what it got; the
cancellation is seen at the task's next checkpoint. Nothing is left running.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import partial
from typing import IO, TYPE_CHECKING, Any, AnyStr, BinaryIO, Generic, Literal, TypeVar, overload

from . import to_thread
from ._core._cancel_scope import CancelScope
from ._core._traps import checkpoint_if_cancelled
from .abc import AsyncResource

if TYPE_CHECKING:
    from typing import Protocol

    from _typeshed import (
        FileDescriptorOrPath,
        OpenBinaryMode,
        OpenBinaryModeReading,
        OpenBinaryModeUpdating,
        OpenBinaryModeWriting,
        OpenTextMode,
        WriteableBuffer,
    )

FileT = TypeVar("FileT")
FileT_co = TypeVar("FileT_co", covariant=True)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)
AnyStr_co = TypeVar("AnyStr_co", str, bytes, covariant=True)

# Read straight from the wrapped object: they never wait for the disk.
_FILE_SYNC_ATTRS: frozenset[str] = frozenset(
    {
        "closed",
        "encoding",
        "errors",
        "fileno",
        "isatty",
        "newlines",
        "readable",
        "seekable",
        "writable",
        "buffer",
        "raw",
        "line_buffering",
        "closefd",
        "name",
        "mode",
        "getvalue",
        "getbuffer",
    }
)

# Run in a worker thread: any of them may wait for the disk (or a pipe, a terminal).
_FILE_ASYNC_METHODS: frozenset[str] = frozenset(
    {
        "flush",
        "read",
        "read1",
        "readall",
        "readinto",
        "readinto1",
        "readline",
        "readlines",
        "seek",
        "tell",
        "truncate",
        "write",
        "writelines",
        "peek",
    }
)


class AsyncIOWrapper(AsyncResource, Generic[FileT_co]):
    """An asynchronous file object: the methods of the wrapped file that may block are
    async (they run in a worker thread), the rest are forwarded as they are.

    Made by ``open_file``, ``wrap_file`` and ``Path.open``. Supports ``async with``
    (closing at the end) and ``async for line in file``.
    """

    def __init__(self, file: FileT_co) -> None:
        self._wrapped = file

    @property
    def wrapped(self) -> FileT_co:
        """The synchronous file object underneath."""
        return self._wrapped

    if not TYPE_CHECKING:
        # Hidden from type checkers, which see the precise declarations further down.
        def __getattr__(self, name: str) -> Any:
            if name == "_wrapped":  # not set yet (copy, unpickling): no recursion
                raise AttributeError(name)
            if name in _FILE_SYNC_ATTRS:
                return getattr(self._wrapped, name)
            if name in _FILE_ASYNC_METHODS:
                method = getattr(self._wrapped, name)  # AttributeError if it has none
                async_method = self._make_async(name, method)
                # Kept on the instance: __getattr__ is not consulted again for it.
                setattr(self, name, async_method)
                return async_method
            raise AttributeError(name)

    def _make_async(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def async_method(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                return await to_thread.run_sync(partial(method, *args, **kwargs))
            return await to_thread.run_sync(method, *args)

        file_type = self._wrapped.__class__  # a mock's spec class, unlike type()
        async_method.__name__ = name
        async_method.__qualname__ = f"{type(self).__qualname__}.{name}"
        async_method.__doc__ = (
            f"Like ``{file_type.__module__}.{file_type.__qualname__}.{name}``, but async: "
            "it runs in a worker thread."
        )
        return async_method

    def __dir__(self) -> Iterable[str]:
        names = set(super().__dir__())
        names.update(
            name for name in _FILE_SYNC_ATTRS | _FILE_ASYNC_METHODS if hasattr(self._wrapped, name)
        )
        return names

    def __aiter__(self) -> AsyncIOWrapper[FileT_co]:
        return self

    async def __anext__(self: AsyncIOWrapper[_CanReadLine[AnyStr]]) -> AnyStr:
        line = await self.readline()
        if line:
            return line
        raise StopAsyncIteration

    async def detach(self: AsyncIOWrapper[_CanDetach[T]]) -> AsyncIOWrapper[T]:
        """Like ``io.BufferedIOBase.detach``, but async: returns the underlying raw or
        binary stream, wrapped in its turn. This wrapper is unusable afterwards."""
        raw = await to_thread.run_sync(self._wrapped.detach)
        return wrap_file(raw)

    async def aclose(self) -> None:
        """Close the file (in a worker thread, since closing flushes). A checkpoint; the
        file is closed even if the call is cancelled, which it then reports by raising
        ``Cancelled``."""
        # Shielded: a file left half-open by a cancellation would leak its descriptor.
        with CancelScope(shield=True):
            await to_thread.run_sync(self._wrapped.close)  # type: ignore[attr-defined]
        await checkpoint_if_cancelled()

    def __repr__(self) -> str:
        return f"<nursery async file wrapping {self._wrapped!r}>"

    if TYPE_CHECKING:
        # What the wrapper offers depends on what it wraps: each attribute is declared
        # for the files that have it, so that mypy knows both whether it exists and
        # what it returns (str or bytes).
        @property
        def closed(self: AsyncIOWrapper[_HasClosed]) -> bool: ...
        @property
        def encoding(self: AsyncIOWrapper[_HasEncoding]) -> str: ...
        @property
        def errors(self: AsyncIOWrapper[_HasErrors]) -> str | None: ...
        @property
        def newlines(self: AsyncIOWrapper[_HasNewlines[T]]) -> T: ...
        @property
        def buffer(self: AsyncIOWrapper[_HasBuffer[T]]) -> T: ...
        @property
        def raw(self: AsyncIOWrapper[_HasRaw[T]]) -> T: ...
        @property
        def line_buffering(self: AsyncIOWrapper[_HasLineBuffering]) -> bool: ...
        @property
        def closefd(self: AsyncIOWrapper[_HasCloseFD]) -> bool: ...
        @property
        def name(self: AsyncIOWrapper[_HasName[T]]) -> T: ...
        @property
        def mode(self: AsyncIOWrapper[_HasMode]) -> str: ...
        def fileno(self: AsyncIOWrapper[_HasFileNo]) -> int: ...
        def isatty(self: AsyncIOWrapper[_HasIsATTY]) -> bool: ...
        def readable(self: AsyncIOWrapper[_HasReadable]) -> bool: ...
        def seekable(self: AsyncIOWrapper[_HasSeekable]) -> bool: ...
        def writable(self: AsyncIOWrapper[_HasWritable]) -> bool: ...
        def getvalue(self: AsyncIOWrapper[_HasGetValue[T]]) -> T: ...
        def getbuffer(self: AsyncIOWrapper[_HasGetBuffer]) -> memoryview: ...
        async def flush(self: AsyncIOWrapper[_CanFlush]) -> None: ...
        async def read(
            self: AsyncIOWrapper[_CanRead[AnyStr]], size: int | None = -1, /
        ) -> AnyStr: ...
        async def read1(self: AsyncIOWrapper[_CanRead1], size: int = -1, /) -> bytes: ...
        async def readall(self: AsyncIOWrapper[_CanReadAll]) -> bytes: ...
        async def readinto(
            self: AsyncIOWrapper[_CanReadInto], buffer: WriteableBuffer, /
        ) -> int | None: ...
        async def readinto1(
            self: AsyncIOWrapper[_CanReadInto1], buffer: WriteableBuffer, /
        ) -> int: ...
        async def readline(
            self: AsyncIOWrapper[_CanReadLine[AnyStr]], size: int = -1, /
        ) -> AnyStr: ...
        async def readlines(
            self: AsyncIOWrapper[_CanReadLines[AnyStr]], hint: int = -1, /
        ) -> list[AnyStr]: ...
        async def seek(self: AsyncIOWrapper[_CanSeek], target: int, whence: int = 0, /) -> int: ...
        async def tell(self: AsyncIOWrapper[_CanTell]) -> int: ...
        async def truncate(
            self: AsyncIOWrapper[_CanTruncate], size: int | None = None, /
        ) -> int: ...
        async def write(self: AsyncIOWrapper[_CanWrite[T]], data: T, /) -> int: ...
        async def writelines(
            self: AsyncIOWrapper[_CanWriteLines[T]], lines: Iterable[T], /
        ) -> None: ...
        async def peek(self: AsyncIOWrapper[_CanPeek[AnyStr]], size: int = 0, /) -> AnyStr: ...


if TYPE_CHECKING:
    # One protocol per attribute of a file object, for the declarations above.
    class _HasClosed(Protocol):
        @property
        def closed(self) -> bool: ...

    class _HasEncoding(Protocol):
        @property
        def encoding(self) -> str: ...

    class _HasErrors(Protocol):
        @property
        def errors(self) -> str | None: ...

    class _HasNewlines(Protocol[T_co]):
        @property
        def newlines(self) -> T_co: ...

    class _HasBuffer(Protocol[T_co]):
        @property
        def buffer(self) -> T_co: ...

    class _HasRaw(Protocol[T_co]):
        @property
        def raw(self) -> T_co: ...

    class _HasLineBuffering(Protocol):
        @property
        def line_buffering(self) -> bool: ...

    class _HasCloseFD(Protocol):
        @property
        def closefd(self) -> bool: ...

    class _HasName(Protocol[T_co]):
        @property
        def name(self) -> T_co: ...

    class _HasMode(Protocol):
        @property
        def mode(self) -> str: ...

    class _HasFileNo(Protocol):
        def fileno(self) -> int: ...

    class _HasIsATTY(Protocol):
        def isatty(self) -> bool: ...

    class _HasReadable(Protocol):
        def readable(self) -> bool: ...

    class _HasSeekable(Protocol):
        def seekable(self) -> bool: ...

    class _HasWritable(Protocol):
        def writable(self) -> bool: ...

    class _HasGetValue(Protocol[T_co]):
        def getvalue(self) -> T_co: ...

    class _HasGetBuffer(Protocol):
        def getbuffer(self) -> memoryview: ...

    class _CanFlush(Protocol):
        def flush(self) -> None: ...

    class _CanRead(Protocol[AnyStr_co]):
        def read(self, size: int | None = ..., /) -> AnyStr_co: ...

    class _CanRead1(Protocol):
        def read1(self, size: int = ..., /) -> bytes: ...

    class _CanReadAll(Protocol):
        def readall(self) -> bytes: ...

    class _CanReadInto(Protocol):
        def readinto(self, buffer: WriteableBuffer, /) -> int | None: ...

    class _CanReadInto1(Protocol):
        def readinto1(self, buffer: WriteableBuffer, /) -> int: ...

    class _CanReadLine(Protocol[AnyStr_co]):
        def readline(self, size: int = ..., /) -> AnyStr_co: ...

    class _CanReadLines(Protocol[AnyStr]):
        def readlines(self, hint: int = ..., /) -> list[AnyStr]: ...

    class _CanSeek(Protocol):
        def seek(self, target: int, whence: int = ..., /) -> int: ...

    class _CanTell(Protocol):
        def tell(self) -> int: ...

    class _CanTruncate(Protocol):
        def truncate(self, size: int | None = ..., /) -> int: ...

    class _CanWrite(Protocol[T_contra]):
        def write(self, data: T_contra, /) -> int: ...

    class _CanWriteLines(Protocol[T_contra]):
        def writelines(self, lines: Iterable[T_contra], /) -> None: ...

    class _CanPeek(Protocol[AnyStr_co]):
        def peek(self, size: int = ..., /) -> AnyStr_co: ...

    class _CanDetach(Protocol[T_co]):
        def detach(self) -> T_co: ...


def wrap_file(file: FileT) -> AsyncIOWrapper[FileT]:
    """Wrap an already open file object (anything with ``close`` and ``read`` or
    ``write``) in an asynchronous file object. Closing the wrapper closes the file."""

    def has(name: str) -> bool:
        return callable(getattr(file, name, None))

    if not (has("close") and (has("read") or has("write"))):
        raise TypeError(
            f"wrap_file() expected a file object (with close() and read() or write()), got {file!r}"
        )
    return AsyncIOWrapper(file)


_Opener = Callable[[str, int], int]


@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenTextMode = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[io.TextIOWrapper]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenBinaryMode,
    buffering: Literal[0],
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[io.FileIO]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeUpdating,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[io.BufferedRandom]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeWriting,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[io.BufferedWriter]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeReading,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[io.BufferedReader]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: OpenBinaryMode,
    buffering: int = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[BinaryIO]: ...
@overload
async def open_file(
    file: FileDescriptorOrPath,
    mode: str,
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[IO[Any]]: ...


async def open_file(
    file: FileDescriptorOrPath,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: _Opener | None = None,
) -> AsyncIOWrapper[Any]:
    """The asynchronous version of the built-in ``open()``, with the same arguments:
    opens the file in a worker thread and returns an asynchronous file object.

    Use it as ``async with await open_file(path) as f:``. A checkpoint.
    """
    opened = await to_thread.run_sync(
        partial(open, file, mode, buffering, encoding, errors, newline, closefd, opener)
    )
    return wrap_file(opened)
