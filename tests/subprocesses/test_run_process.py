"""run_process: input, output capture, exit status checks, nursery.start, and bad
input. (Cancellation and leaks: test_run_process_reliability.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial

import pytest
from subprocess_helpers import assert_reaped, open_fds

import nursery
from nursery import run_process
from nursery.lowlevel import FdStream


async def test_a_plain_call_returns_a_completed_process(exit_mode: str) -> None:
    result = await run_process(["true"])
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.args == ["true"]
    assert result.returncode == 0
    assert result.stdout is None and result.stderr is None


async def test_stdin_bytes_are_fed_then_end_of_file(exit_mode: str) -> None:
    data = os.urandom(3 << 20)  # far more than a pipe holds: fed while output is read
    for given in (data, bytearray(data), memoryview(data)):
        result = await run_process(["cat"], stdin=given, capture_stdout=True)
        assert result.stdout == data


async def test_the_default_stdin_is_empty() -> None:
    result = await run_process(["sh", "-c", "wc -c; test -p /dev/stdin"], capture_stdout=True)
    assert result.stdout.strip() == b"0"  # and it is a pipe at end-of-file


async def test_stdin_none_inherits_ours() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"inherited")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        result = await run_process(["cat"], stdin=None, capture_stdout=True)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_end)
    assert result.stdout == b"inherited"


async def test_a_child_that_does_not_read_its_input_is_fine() -> None:
    result = await run_process(["true"], stdin=b"x" * (1 << 20))
    assert result.returncode == 0


async def test_large_outputs_on_both_pipes_at_once(exit_mode: str) -> None:
    # The child alternates between the pipes; reading one at a time would deadlock.
    script = (
        "import os\n"
        "for i in range(64):\n"
        "    os.write(1, b'o' * 65536)\n"
        "    os.write(2, b'e' * 65536)\n"
    )
    result = await run_process(
        [sys.executable, "-c", script], capture_stdout=True, capture_stderr=True
    )
    assert result.stdout == b"o" * (64 * 65536)
    assert result.stderr == b"e" * (64 * 65536)


async def test_capture_stdout_with_stderr_merged() -> None:
    result = await run_process(
        ["sh", "-c", "echo out; echo err >&2"], capture_stdout=True, stderr=subprocess.STDOUT
    )
    assert result.stdout == b"out\nerr\n"
    assert result.stderr is None


async def test_a_failure_raises_called_process_error_with_the_output() -> None:
    command = ["sh", "-c", "echo partial; echo oops >&2; exit 7"]
    with pytest.raises(subprocess.CalledProcessError) as info:
        await run_process(command, capture_stdout=True, capture_stderr=True)
    error = info.value
    assert error.returncode == 7
    assert error.cmd == command
    assert error.stdout == error.output == b"partial\n"
    assert error.stderr == b"oops\n"

    with pytest.raises(subprocess.CalledProcessError) as info:
        await run_process(["sh", "-c", "kill -KILL $$"])
    assert info.value.returncode == -9
    assert info.value.stdout is None and info.value.stderr is None


async def test_check_false_returns_the_status() -> None:
    result = await run_process(["sh", "-c", "exit 4"], check=False)
    assert result.returncode == 4


async def test_shell_only_when_asked() -> None:
    result = await run_process("echo $((40 + 2))", shell=True, capture_stdout=True)
    assert result.stdout == b"42\n"
    with pytest.raises(TypeError, match="shell=True"):
        await run_process("echo hi")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one string"):
        await run_process(["echo", "hi"], shell=True)


async def test_started_in_a_nursery_gives_the_process(exit_mode: str) -> None:
    async with nursery.open_nursery() as n:
        process = await n.start(
            partial(run_process, ["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        )
        assert isinstance(process, nursery.Process)
        assert isinstance(process.stdin, FdStream) and isinstance(process.stdout, FdStream)
        assert isinstance(process.stdio, nursery.StapledStream)
        await process.stdio.send_all(b"ping")
        assert await process.stdio.receive_some() == b"ping"
        await process.stdio.send_eof()  # closes stdin: cat exits
    assert process.returncode == 0
    await process.stdout.aclose()


async def test_started_with_fed_and_captured_streams_hides_them() -> None:
    async with nursery.open_nursery() as n:
        process = await n.start(
            partial(run_process, ["cat"], stdin=b"fed", capture_stdout=True, check=False)
        )
        assert process.stdin is None and process.stdout is None and process.stdio is None
    assert process.returncode == 0


async def test_started_and_failing_raises_out_of_the_nursery() -> None:
    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            await n.start(run_process, ["false"])
    assert info.group_contains(subprocess.CalledProcessError)


async def test_a_program_that_does_not_exist_raises_os_error_directly() -> None:
    before = open_fds()
    with pytest.raises(FileNotFoundError):
        await run_process(["/nonexistent/program"], stdin=b"data", capture_stdout=True)
    assert open_fds() == before


async def test_bad_input() -> None:
    with pytest.raises(UnicodeError, match="bytes, not str"):
        await run_process(["cat"], stdin="text")  # type: ignore[arg-type]
    for name in ("stdin", "stdout", "stderr"):
        with pytest.raises(ValueError, match=f"{name}=subprocess.PIPE"):
            await run_process(["true"], **{name: subprocess.PIPE})
    with pytest.raises(ValueError, match="stdout"):
        await run_process(["true"], capture_stdout=True, stdout=subprocess.DEVNULL)
    with pytest.raises(ValueError, match="stderr"):
        await run_process(["true"], capture_stderr=True, stderr=subprocess.DEVNULL)
    with pytest.raises(TypeError, match="text"):
        await run_process(["true"], text=True)


async def test_many_children_at_once_are_all_reaped(exit_mode: str) -> None:
    processes: list[nursery.Process] = []
    async with nursery.open_nursery() as n:
        for i in range(20):
            command = ["sh", "-c", f"exit {i % 3}"]
            processes.append(await n.start(partial(run_process, command, check=False)))
    assert [p.returncode for p in processes] == [i % 3 for i in range(20)]
    for process in processes:
        assert_reaped(process.pid)
