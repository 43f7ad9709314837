"""nursery.Path: pure operations stay sync, file-system operations are async."""

from __future__ import annotations

import os
import pathlib
import stat
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import nursery
from nursery import Path, PosixPath
from nursery._file_io import AsyncIOWrapper
from nursery.testing import MockClock, active_thread_count, assert_checkpoints


@pytest.fixture
def root(tmp_path: pathlib.Path) -> Path:
    (tmp_path / "file.txt").write_text("hello")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "inner.txt").write_text("inner")
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to("file.txt")
    return Path(tmp_path)


# -- pure operations ----------------------------------------------------------------------


def test_constructing_makes_a_posix_path() -> None:
    p = Path("a", "b")
    assert type(p) is PosixPath
    assert isinstance(p, Path)
    assert isinstance(p, pathlib.PurePath)
    assert isinstance(p, pathlib.PurePosixPath)
    assert not isinstance(p, pathlib.Path)  # as in Trio: no sync I/O methods
    assert str(p) == "a/b"
    assert type(PosixPath("x")) is PosixPath
    assert Path(pathlib.Path("/x/y")) == Path("/x/y")
    assert Path(Path("z")) == Path("z")
    assert Path() == Path(".")


def test_pure_operations_give_nursery_paths() -> None:
    p = Path("/srv/data/report.txt")
    derived = [
        p.parent,
        p / "x",
        "/root" / Path("x"),
        p.joinpath("a", "b"),
        p.with_suffix(".csv"),
        p.with_name("other"),
        p.with_stem("summary"),
        p.relative_to("/srv"),
        *p.parents,
    ]
    for d in derived:
        assert type(d) is PosixPath, d
    assert p.name == "report.txt"
    assert p.suffix == ".txt"
    assert p.stem == "report"
    assert p.parts == ("/", "srv", "data", "report.txt")
    assert p.is_absolute()
    assert p.match("*.txt")
    assert p.as_uri() == "file:///srv/data/report.txt"
    assert os.fspath(p) == "/srv/data/report.txt"
    assert repr(p) == "nursery.Path('/srv/data/report.txt')"
    assert p == Path("/srv/data/report.txt")
    assert hash(p) == hash(Path("/srv/data/report.txt"))


def test_bad_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError):
        Path(3)  # type: ignore[arg-type]


def test_open_file_and_os_accept_a_path(root: Path) -> None:
    assert open(root / "file.txt").read() == "hello"


# -- file-system operations ---------------------------------------------------------------


async def test_queries(root: Path) -> None:
    f, d, link, missing = root / "file.txt", root / "dir", root / "link", root / "missing"
    assert await f.exists()
    assert not await missing.exists()
    assert await f.is_file() and not await d.is_file()
    assert await d.is_dir() and not await f.is_dir()
    assert await link.is_symlink() and not await f.is_symlink()
    assert not await f.is_mount()
    assert await Path("/").is_mount()
    assert not await f.is_socket()
    assert not await f.is_fifo()
    assert not await f.is_block_device()
    assert await Path("/dev/null").is_char_device()
    assert await link.samefile(f)
    assert (await f.stat()).st_size == 5
    assert stat.S_ISLNK((await link.stat(follow_symlinks=False)).st_mode)
    assert stat.S_ISLNK((await link.lstat()).st_mode)
    assert await f.owner() == pathlib.Path(f).owner()
    assert await f.group() == pathlib.Path(f).group()


async def test_methods_that_give_paths_give_nursery_paths(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root)
    cwd = await Path.cwd()
    assert type(cwd) is PosixPath and cwd == Path(os.getcwd())
    home = await Path.home()
    assert type(home) is PosixPath and home == Path(os.path.expanduser("~"))
    assert await PosixPath.cwd() == cwd
    for result, expected in [
        (await Path("file.txt").absolute(), root / "file.txt"),
        (await Path("dir/../link").resolve(), root / "file.txt"),
        (await Path("~").expanduser(), home),
        (await (root / "link").readlink(), Path("file.txt")),
    ]:
        assert type(result) is PosixPath
        assert result == expected
    with pytest.raises(FileNotFoundError):
        await Path("missing").resolve(strict=True)


async def test_listing(root: Path) -> None:
    children = await root.iterdir()
    assert iter(children) is children  # an iterator, as in Trio
    assert sorted(children) == [root / "dir", root / "empty", root / "file.txt", root / "link"]
    for found in [*(await root.glob("*.txt")), *(await root.rglob("*.txt"))]:
        assert type(found) is PosixPath
    assert list(await root.glob("*.txt")) == [root / "file.txt"]
    assert sorted(await root.rglob("*.txt")) == [root / "dir" / "inner.txt", root / "file.txt"]


async def test_reading_and_writing(root: Path) -> None:
    f = root / "new.txt"
    assert await f.write_text("caf\xe9", encoding="latin-1") == 4
    assert await f.read_bytes() == b"caf\xe9"
    assert await f.read_text(encoding="latin-1") == "caf\xe9"
    assert await f.read_text(encoding="ascii", errors="replace") == "caf\ufffd"
    assert await f.write_bytes(b"raw") == 3
    assert await f.read_text() == "raw"
    await f.write_text("a\nb\n", newline="\r\n")
    assert await f.read_bytes() == b"a\r\nb\r\n"


async def test_open_gives_an_async_file(root: Path) -> None:
    async with await (root / "file.txt").open() as f:
        assert isinstance(f, AsyncIOWrapper)
        assert await f.read() == "hello"
    assert f.closed
    async with await (root / "out.bin").open("wb", buffering=0) as b:
        await b.write(b"bytes")
    async with await (root / "out.bin").open("r", -1, "ascii", "strict", "") as t:
        assert await t.read() == "bytes"


async def test_changing_the_file_system(root: Path) -> None:
    d = root / "a" / "b"
    await d.mkdir(parents=True)
    assert await d.is_dir()
    with pytest.raises(FileExistsError):
        await d.mkdir()
    await d.mkdir(exist_ok=True)
    f = d / "f"
    await f.touch()
    await f.touch()  # exist_ok by default
    with pytest.raises(FileExistsError):
        await f.touch(exist_ok=False)
    await f.chmod(0o600)
    assert stat.S_IMODE((await f.stat()).st_mode) == 0o600
    await f.lchmod(0o640)
    assert stat.S_IMODE((await f.stat()).st_mode) == 0o640
    await (d / "link").symlink_to(f)
    with pytest.raises(NotImplementedError):
        await (d / "link").lchmod(0o600)  # Linux cannot change a link's mode
    await (d / "link").unlink()
    g = await f.rename(d / "g")
    assert type(g) is PosixPath and g == d / "g"
    await (d / "h").write_text("h")
    h = await g.replace(d / "h")
    assert type(h) is PosixPath and not await g.exists()
    await (d / "sym").symlink_to("h")
    assert await (d / "sym").read_text() == ""
    await (d / "hard").hardlink_to(h)
    assert await (d / "hard").samefile(h)
    for name in ("sym", "hard", "h"):
        await (d / name).unlink()
    await (d / "h").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        await (d / "h").unlink()
    await d.rmdir()
    assert not await d.exists()


async def test_methods_run_in_a_worker_thread(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = pathlib.Path.exists

    def recording(self: pathlib.Path) -> bool:
        seen.append(threading.get_ident())
        return real(self)

    monkeypatch.setattr(pathlib.Path, "exists", recording)
    assert await root.exists()
    assert seen and seen[0] != threading.get_ident()


# -- checkpoints --------------------------------------------------------------------------

# Every async method of Path, called so that it succeeds on the `root` fixture's tree.
PATH_CALLS: dict[str, Callable[[Path], Awaitable[object]]] = {
    "cwd": lambda r: Path.cwd(),
    "home": lambda r: Path.home(),
    "absolute": lambda r: r.absolute(),
    "resolve": lambda r: r.resolve(),
    "expanduser": lambda r: r.expanduser(),
    "readlink": lambda r: (r / "link").readlink(),
    "iterdir": lambda r: r.iterdir(),
    "glob": lambda r: r.glob("*"),
    "rglob": lambda r: r.rglob("*"),
    "stat": lambda r: r.stat(),
    "lstat": lambda r: r.lstat(),
    "owner": lambda r: r.owner(),
    "group": lambda r: r.group(),
    "exists": lambda r: r.exists(),
    "is_dir": lambda r: r.is_dir(),
    "is_file": lambda r: r.is_file(),
    "is_symlink": lambda r: r.is_symlink(),
    "is_mount": lambda r: r.is_mount(),
    "is_socket": lambda r: r.is_socket(),
    "is_fifo": lambda r: r.is_fifo(),
    "is_block_device": lambda r: r.is_block_device(),
    "is_char_device": lambda r: r.is_char_device(),
    "samefile": lambda r: r.samefile(r),
    "open": lambda r: _open_and_close(r / "file.txt"),
    "read_bytes": lambda r: (r / "file.txt").read_bytes(),
    "read_text": lambda r: (r / "file.txt").read_text(),
    "write_bytes": lambda r: (r / "new").write_bytes(b"x"),
    "write_text": lambda r: (r / "new").write_text("x"),
    "touch": lambda r: (r / "new").touch(),
    "mkdir": lambda r: (r / "new").mkdir(),
    "chmod": lambda r: (r / "file.txt").chmod(0o644),
    "lchmod": lambda r: _ignoring(NotImplementedError, (r / "link").lchmod(0o644)),
    "unlink": lambda r: (r / "file.txt").unlink(),
    "rmdir": lambda r: (r / "empty").rmdir(),
    "rename": lambda r: (r / "file.txt").rename(r / "renamed"),
    "replace": lambda r: (r / "file.txt").replace(r / "replaced"),
    "symlink_to": lambda r: (r / "sym").symlink_to("file.txt"),
    "hardlink_to": lambda r: (r / "hard").hardlink_to(r / "file.txt"),
}


async def _open_and_close(path: Path) -> None:
    f = await path.open()
    await f.aclose()


async def _ignoring(error: type[BaseException], awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except error:
        pass


def test_async_methods_say_what_they_wrap() -> None:
    for name in PATH_CALLS:
        method = getattr(Path, name)
        assert method.__name__ == name
        assert method.__qualname__ == f"Path.{name}"
        assert f"pathlib.Path.{name}`" in method.__doc__


def test_the_table_covers_every_async_method() -> None:
    import inspect

    async_methods = {
        name
        for name, member in vars(Path).items()
        if inspect.iscoroutinefunction(getattr(member, "__func__", member))
    }
    assert async_methods == set(PATH_CALLS)


@pytest.mark.parametrize("name", sorted(PATH_CALLS))
async def test_every_method_is_a_checkpoint(
    name: str, root: Path, autojump_clock: MockClock
) -> None:
    with assert_checkpoints():
        await PATH_CALLS[name](root)


@pytest.mark.parametrize("name", sorted(PATH_CALLS))
async def test_every_method_raises_cancelled_in_a_cancelled_scope_and_does_nothing(
    name: str, root: Path
) -> None:
    before = sorted(os.walk(root))
    with nursery.CancelScope() as scope:
        scope.cancel()
        await PATH_CALLS[name](root)
    assert scope.cancelled_caught
    assert sorted(os.walk(root)) == before
    assert active_thread_count() == 0
