"""open_file, wrap_file and the asynchronous file object (AsyncIOWrapper)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import nursery
from nursery import open_file, wrap_file
from nursery._file_io import _FILE_ASYNC_METHODS, _FILE_SYNC_ATTRS, AsyncIOWrapper
from nursery.testing import (
    MockClock,
    active_thread_count,
    assert_checkpoints,
    wait_all_tasks_blocked,
)

# -- the wrapper forwards exactly what the file has ----------------------------------------


@pytest.fixture(params=["text", "binary", "raw", "stringio", "bytesio"])
def sync_file(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    path = tmp_path / "data"
    path.write_bytes(b"line one\nline two\n")
    kind = request.param
    if kind == "text":
        f: Any = open(path, "r+")
    elif kind == "binary":
        f = open(path, "r+b")
    elif kind == "raw":
        f = open(path, "r+b", buffering=0)
    elif kind == "stringio":
        f = io.StringIO("line one\nline two\n")
    else:
        f = io.BytesIO(b"line one\nline two\n")
    yield f
    f.close()


def test_wrapped_is_the_file(sync_file: Any) -> None:
    assert wrap_file(sync_file).wrapped is sync_file


def test_dir_lists_what_the_file_has(sync_file: Any) -> None:
    async_file = wrap_file(sync_file)
    listed = set(dir(async_file))
    for name in _FILE_SYNC_ATTRS | _FILE_ASYNC_METHODS:
        assert (name in listed) == hasattr(sync_file, name), name
    assert {"aclose", "detach", "wrapped"} <= listed


def test_sync_attributes_are_forwarded(sync_file: Any) -> None:
    async_file = wrap_file(sync_file)
    for name in _FILE_SYNC_ATTRS:
        if hasattr(sync_file, name):
            assert getattr(async_file, name) == getattr(sync_file, name)
        else:
            with pytest.raises(AttributeError):
                getattr(async_file, name)


def test_async_methods_exist_only_where_the_file_has_them(sync_file: Any) -> None:
    async_file = wrap_file(sync_file)
    for name in _FILE_ASYNC_METHODS:
        if hasattr(sync_file, name):
            method = getattr(async_file, name)
            assert method is getattr(async_file, name)  # made once, then kept
            assert method.__name__ == name
            assert method.__qualname__ == f"AsyncIOWrapper.{name}"
            assert f"{type(sync_file).__qualname__}.{name}" in method.__doc__
        else:
            assert not hasattr(async_file, name)


def test_other_attributes_are_not_forwarded() -> None:
    class Odd(io.RawIOBase):
        special = 1

    async_file = wrap_file(Odd())
    assert async_file.wrapped.special == 1
    with pytest.raises(AttributeError):
        async_file.special  # type: ignore[attr-defined]  # noqa: B018


async def test_async_methods_pass_arguments_through() -> None:
    sync_file = mock.Mock(spec_set=sorted(_FILE_ASYNC_METHODS | {"close"}))
    async_file = wrap_file(sync_file)
    for name in sorted(_FILE_ASYNC_METHODS):
        method = getattr(sync_file, name)
        method.return_value = name
        assert await getattr(async_file, name)(1, key=2) == name
        method.assert_called_once_with(1, key=2)


async def test_async_methods_run_in_a_worker_thread() -> None:
    seen: list[int] = []

    class Recording(io.StringIO):
        def read(self, size: int | None = -1, /) -> str:
            seen.append(threading.get_ident())
            return super().read(size)

    async_file = wrap_file(Recording("abc"))
    assert await async_file.read() == "abc"
    assert seen and seen[0] != threading.get_ident()


def test_wrap_file_needs_a_file() -> None:
    with pytest.raises(TypeError, match="file object"):
        wrap_file(object())
    with pytest.raises(TypeError, match="file object"):
        wrap_file(mock.Mock(spec_set=["read"]))  # no close
    # close plus one of read/write is enough
    wrap_file(mock.Mock(spec_set=["close", "write"]))
    wrap_file(mock.Mock(spec_set=["close", "read"]))


def test_copying_a_wrapper() -> None:
    import copy

    async_file = wrap_file(io.StringIO("x"))
    assert copy.copy(async_file).wrapped is async_file.wrapped
    # Before __init__ has run (as when unpickling), looking an attribute up fails
    # plainly instead of recursing.
    blank = AsyncIOWrapper.__new__(AsyncIOWrapper)
    with pytest.raises(AttributeError):
        blank.read  # noqa: B018


def test_repr_names_the_file() -> None:
    assert "StringIO" in repr(wrap_file(io.StringIO()))


# -- open_file --------------------------------------------------------------------------


async def test_open_file_write_then_read(tmp_path: Path) -> None:
    path = tmp_path / "hello.txt"
    async with await open_file(path, "w") as f:
        assert isinstance(f, AsyncIOWrapper)
        assert await f.write("hello\n") == 6
        await f.writelines(["a\n", "b\n"])
        await f.flush()
    assert f.closed
    assert path.read_text() == "hello\na\nb\n"
    async with await open_file(str(path)) as f:
        assert f.name == str(path)
        assert f.mode == "r"
        assert await f.readline() == "hello\n"
        assert await f.tell() == 6
        assert await f.readlines() == ["a\n", "b\n"]
        assert await f.seek(0) == 0
        assert await f.read(3) == "hel"


async def test_open_file_passes_every_argument(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\xe9\r\n".encode("latin-1"))
    opened: list[str] = []

    def opener(name: str, flags: int) -> int:
        opened.append(name)
        return os.open(name, flags)

    f = await open_file(path, "r", 1, "latin-1", "strict", "", True, opener)
    try:
        assert await f.read() == "caf\xe9\r\n"  # newline="" keeps the \r\n
        assert f.encoding == "latin-1"
        assert f.line_buffering
        assert opened == [str(path)]
    finally:
        await f.aclose()

    fd = os.open(path, os.O_RDONLY)
    f2 = await open_file(fd, "rb", closefd=False)
    await f2.aclose()
    os.fstat(fd)  # still open: closefd=False
    os.close(fd)


async def test_open_file_errors_come_from_the_thread(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await open_file(tmp_path / "missing")
    with pytest.raises(ValueError):
        await open_file(tmp_path / "x", "rw")


async def test_binary_modes(tmp_path: Path) -> None:
    path = tmp_path / "bin"
    async with await open_file(path, "wb") as f:
        await f.write(b"0123456789")
    async with await open_file(path, "rb") as r:
        assert await r.peek(1)
        assert await r.read1(3) == b"012"
        buffer = bytearray(3)
        assert await r.readinto(buffer) == 3
        assert buffer == b"345"
        assert await r.readinto1(buffer) == 3
        assert await r.read() == b"9"
    async with await open_file(path, "r+b") as rw:
        await rw.seek(0, os.SEEK_END)
        assert await rw.truncate(4) == 4
    async with await open_file(path, "rb", buffering=0) as raw:
        assert await raw.readall() == b"0123"


async def test_async_for_reads_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines"
    path.write_text("one\ntwo\nthree")
    async with await open_file(path) as f:
        assert [line async for line in f] == ["one\n", "two\n", "three"]
    async with await open_file(path, "rb") as b:
        assert [line async for line in b] == [b"one\n", b"two\n", b"three"]


async def test_detach_wraps_what_was_underneath(tmp_path: Path) -> None:
    path = tmp_path / "d"
    path.write_text("abc")
    f = await open_file(path)
    buffered = await f.detach()
    assert isinstance(buffered, AsyncIOWrapper)
    assert isinstance(buffered.wrapped, io.BufferedReader)
    raw = await buffered.detach()
    assert isinstance(raw.wrapped, io.FileIO)
    assert await raw.read() == b"abc"
    await raw.aclose()


async def test_aclose_twice_is_fine(tmp_path: Path) -> None:
    f = await open_file(tmp_path / "x", "w")
    await f.aclose()
    await f.aclose()
    assert f.closed


# -- checkpoints and cancellation --------------------------------------------------------


METHOD_CALLS: dict[str, Callable[[AsyncIOWrapper[Any]], Awaitable[object]]] = {
    "flush": lambda f: f.flush(),
    "read": lambda f: f.read(),
    "read1": lambda f: f.read1(),
    "readall": lambda f: f.readall(),
    "readinto": lambda f: f.readinto(bytearray(2)),
    "readinto1": lambda f: f.readinto1(bytearray(2)),
    "readline": lambda f: f.readline(),
    "readlines": lambda f: f.readlines(),
    "seek": lambda f: f.seek(0),
    "tell": lambda f: f.tell(),
    "truncate": lambda f: f.truncate(),
    "write": lambda f: f.write(b"x"),
    "writelines": lambda f: f.writelines([b"x"]),
    "peek": lambda f: f.peek(),
    "detach": lambda f: f.detach(),
    "aclose": lambda f: f.aclose(),
    "__anext__": lambda f: f.__anext__(),
}


def test_the_checkpoint_table_covers_every_async_method() -> None:
    assert set(METHOD_CALLS) == _FILE_ASYNC_METHODS | {"detach", "aclose", "__anext__"}


def _wrapped_data_file(path: Path, name: str) -> tuple[AsyncIOWrapper[Any], io.FileIO]:
    path.write_bytes(b"line\n")
    raw = open(path, "r+b", buffering=0)
    # readall() is a method of raw files only; the rest are tried on a buffered one.
    return wrap_file(raw if name == "readall" else io.BufferedRandom(raw)), raw


@pytest.mark.parametrize("name", sorted(METHOD_CALLS))
async def test_every_method_is_a_checkpoint(
    name: str, tmp_path: Path, autojump_clock: MockClock
) -> None:
    f, raw = _wrapped_data_file(tmp_path / "data", name)
    with raw:
        with assert_checkpoints():
            await METHOD_CALLS[name](f)

    f, raw = _wrapped_data_file(tmp_path / "data", name)
    with raw:
        with nursery.CancelScope() as scope:
            scope.cancel()
            await METHOD_CALLS[name](f)
        assert scope.cancelled_caught


async def test_open_file_is_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    with assert_checkpoints():
        f = await open_file(tmp_path / "x")
    await f.aclose()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await open_file(tmp_path / "never", "w")
    assert scope.cancelled_caught
    assert not (tmp_path / "never").exists()  # nothing was opened


async def test_aclose_closes_even_when_cancelled(tmp_path: Path) -> None:
    f = await open_file(tmp_path / "x", "w")
    await f.write("unflushed")
    with nursery.CancelScope() as scope:
        scope.cancel()
        await f.aclose()
    assert scope.cancelled_caught
    assert f.closed
    assert (tmp_path / "x").read_text() == "unflushed"


async def test_async_with_closes_on_cancellation(tmp_path: Path) -> None:
    with nursery.CancelScope() as scope:
        async with await open_file(tmp_path / "x", "w") as f:
            scope.cancel()
            await nursery.sleep_forever()
    assert f.closed


async def test_cancelled_while_the_thread_reads(autojump_clock: MockClock) -> None:
    read_fd, write_fd = os.pipe()
    f = wrap_file(open(read_fd, "rb", buffering=0))
    got: list[bytes | None] = []
    try:
        async with nursery.open_nursery() as n:
            scope = nursery.CancelScope()

            async def reader() -> None:
                with scope:
                    got.append(await f.read(5))

            n.start_soon(reader)
            await wait_all_tasks_blocked()
            assert active_thread_count() == 1
            scope.cancel()  # the thread cannot be stopped...
            await wait_all_tasks_blocked()
            assert active_thread_count() == 1
            os.write(write_fd, b"hello")  # ...so the call waits until it is done
    finally:
        os.close(write_fd)
        await f.aclose()
    assert got == [b"hello"]  # and hands over what it read: nothing is lost
    assert active_thread_count() == 0
