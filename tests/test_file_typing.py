"""The asynchronous file object's types, as mypy sees them: precise per mode and file.

One mypy run over a small snippet (a few seconds): the declarations live in an
``if TYPE_CHECKING`` block that nothing else checks.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent

SNIPPET = """
import io
from typing import IO, Any, BinaryIO, assert_type

import nursery
from nursery._file_io import AsyncIOWrapper


async def check(path: nursery.Path, mode: str) -> None:
    text = await nursery.open_file("x")
    assert_type(text, AsyncIOWrapper[io.TextIOWrapper])
    assert_type(await text.read(), str)
    assert_type(await text.readline(), str)
    assert_type(await text.readlines(), list[str])
    assert_type(await text.write("x"), int)
    assert_type(text.closed, bool)
    assert_type(text.encoding, str)
    async for line in text:
        assert_type(line, str)

    reader = await nursery.open_file("x", "rb")
    assert_type(reader, AsyncIOWrapper[io.BufferedReader])
    assert_type(await reader.read(), bytes)
    assert_type(await reader.peek(), bytes)
    assert_type(await reader.read1(), bytes)
    assert_type(await reader.detach(), AsyncIOWrapper[io.RawIOBase])
    async for raw_line in reader:
        assert_type(raw_line, bytes)

    assert_type(await nursery.open_file("x", "wb"), AsyncIOWrapper[io.BufferedWriter])
    assert_type(await nursery.open_file("x", "r+b"), AsyncIOWrapper[io.BufferedRandom])
    assert_type(await nursery.open_file("x", "rb", buffering=0), AsyncIOWrapper[io.FileIO])
    assert_type(await nursery.open_file("x", mode), AsyncIOWrapper[IO[Any]])
    assert_type(await path.open(), AsyncIOWrapper[io.TextIOWrapper])
    assert_type(await path.open("ab"), AsyncIOWrapper[io.BufferedWriter])

    wrapped = nursery.wrap_file(io.StringIO())
    assert_type(wrapped, AsyncIOWrapper[io.StringIO])
    assert_type(wrapped.wrapped, io.StringIO)
    assert_type(wrapped.getvalue(), str)

    assert_type(path / "x", nursery.Path)
    assert_type(path.parent, nursery.Path)
    assert_type(await path.resolve(), nursery.Path)
    assert_type(await nursery.Path.cwd(), nursery.Path)
    assert_type(await path.read_text(), str)
    assert_type(await path.read_bytes(), bytes)
    assert_type(await path.exists(), bool)
    for child in await path.iterdir():
        assert_type(child, nursery.Path)

    await text.peek()  # E: a text file has no peek()
    await text.write(b"bytes")  # E: a text file takes str
    await reader.write("text")  # E: a binary file takes bytes
"""


def test_file_types_are_precise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = tmp_path / "snippet.py"
    source = textwrap.dedent(SNIPPET)
    snippet.write_text(source)
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # this checkout's nursery, not another
    monkeypatch.chdir(ROOT)  # and the project's mypy settings
    stdout, stderr, _ = mypy_api.run(
        ["--strict", "--cache-dir", os.fspath(tmp_path / "cache"), os.fspath(snippet)]
    )
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    expected_lines = {
        number for number, line in enumerate(source.splitlines(), 1) if "# E:" in line
    }
    error_lines = {int(line.split(":")[1]) for line in errors}
    assert error_lines == expected_lines, stdout + stderr
