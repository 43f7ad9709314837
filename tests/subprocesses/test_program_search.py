"""The parent looks a bare program name up on PATH (``find_program``), as the child's
own search would, so that the child does not try one ``execve`` per PATH entry."""

from __future__ import annotations

import os
import pathlib

import pytest

from nursery import run_process
from nursery._subprocess._process import find_program


def make_program(directory: pathlib.Path, name: str, output: str, mode: int = 0o755) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho {output}\n")
    path.chmod(mode)


def test_a_bare_name_is_found_on_the_path_of_env(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    make_program(second, "prog", "second")
    env = {"PATH": f"{first}:{second}"}
    assert find_program(["prog", "-x"], {"env": env}) == str(second / "prog")


def test_entries_that_are_not_runnable_files_are_skipped(tmp_path: pathlib.Path) -> None:
    not_executable, directory, good = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d in (not_executable, directory, good):
        d.mkdir()
    make_program(not_executable, "prog", "a", mode=0o644)
    (directory / "prog").mkdir()
    make_program(good, "prog", "c")
    env = {"PATH": f"{not_executable}:{directory}:{good}"}
    assert find_program(["prog"], {"env": env}) == str(good / "prog")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("echo hi", {"shell": True}),
        (["true"], {"executable": "/bin/true"}),
        (["./prog"], {}),
        (["/bin/true"], {}),
        (["nursery-no-such-program-anywhere"], {}),
        ([], {}),
        ([3], {}),
        # A relative PATH entry is relative to the child's cwd: left to Popen.
        (["prog"], {"cwd": "/", "env": {"PATH": "relative/bin:/usr/bin"}}),
    ],
)
def test_left_to_popen(command: object, options: dict[str, object]) -> None:
    assert find_program(command, options) is None  # type: ignore[arg-type]


async def test_the_child_runs_the_same_program_with_the_same_argv(
    tmp_path: pathlib.Path,
) -> None:
    make_program(tmp_path, "prog", "from-tmp")
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ.get('PATH', '')}"}
    result = await run_process(["prog"], env=env, capture_stdout=True)
    assert result.stdout == b"from-tmp\n"
    assert result.args == ["prog"]
    # argv[0] is still the bare name the caller gave, as with the child's own search.
    result = await run_process(["sh", "-c", 'echo "$0"'], capture_stdout=True)
    assert result.stdout == b"sh\n"


async def test_a_missing_program_is_still_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        await run_process(["nursery-no-such-program-anywhere"])
