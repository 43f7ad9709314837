"""Asynchronous files: open_file, wrap_file, the async file object, and nursery.Path."""

import io
import tempfile

import nursery


async def write_then_read(folder: str) -> list[str]:
    name = f"{folder}/notes.txt"
    # open_file takes open()'s arguments; opening, writing and closing run in threads.
    async with await nursery.open_file(name, "w", encoding="utf-8") as f:
        await f.write("first line\n")
        await f.writelines(["second line\n", "third line\n"])
    assert f.closed  # a plain attribute, read straight from the file

    lines: list[str] = []
    async with await nursery.open_file(name) as f:
        async for line in f:  # one readline() in a thread per line
            lines.append(line.rstrip("\n"))
    return lines


async def wrapping_an_open_file() -> str:
    # Anything with close() and read() or write() can be wrapped.
    async_file = nursery.wrap_file(io.StringIO("already open"))
    assert isinstance(async_file.wrapped, io.StringIO)
    text = await async_file.read()
    await async_file.aclose()
    return text


async def paths(folder: str) -> list[str]:
    root = nursery.Path(folder)
    data = root / "data" / "report.csv"  # pure operations are sync...
    assert data.suffix == ".csv" and data.parent.name == "data"
    await data.parent.mkdir()  # ...the ones that touch the disk are async
    await data.write_text("a,b\n1,2\n")
    assert await data.is_file()
    assert (await data.stat()).st_size == 8
    async with await data.open() as f:  # Path.open gives an async file object too
        assert await f.readline() == "a,b\n"
    # iterdir, glob and rglob read everything in a thread, then give an iterator.
    return sorted(str(path.relative_to(root)) for path in await root.rglob("*"))


async def closing_despite_cancellation(folder: str) -> bool:
    f = await nursery.open_file(f"{folder}/log.txt", "w")
    await f.write("buffered, not yet flushed")
    with nursery.CancelScope() as scope:
        scope.cancel()
        await f.aclose()  # raises Cancelled, but only after the file is closed
    assert scope.cancelled_caught
    return f.closed


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        assert await write_then_read(folder) == ["first line", "second line", "third line"]
        print(await wrapping_an_open_file())
        print(await paths(folder))
        assert await closing_despite_cancellation(folder)
        assert await nursery.Path(folder, "log.txt").read_text() == "buffered, not yet flushed"
        print("closed and flushed, though cancelled")


if __name__ == "__main__":
    nursery.run(main)
