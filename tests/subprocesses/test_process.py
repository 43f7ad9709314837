"""open_process and Process: spawning, pipes, signals, waiting (with a pidfd and with
the waiter-thread fallback), and bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from subprocess_helpers import SLEEPS, assert_reaped, open_fds, wait_until_exited

import nursery
import nursery._subprocess._process as process_module
from nursery.lowlevel import FdStream, open_process
from nursery.testing import assert_checkpoints, wait_all_tasks_blocked


async def test_talk_to_cat_through_pipes(exit_mode: str) -> None:
    process = await open_process(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process._exit.uses_pidfd == (exit_mode == "pidfd")
    assert isinstance(process.stdin, FdStream) and isinstance(process.stdout, FdStream)
    assert process.stderr is None
    assert isinstance(process.stdio, nursery.StapledStream)
    assert process.stdio.send_stream is process.stdin
    assert process.stdio.receive_stream is process.stdout
    await process.stdio.send_all(b"meow")
    await process.stdin.aclose()
    received = b""
    async for chunk in process.stdout:
        received += chunk
    assert received == b"meow"
    assert await process.wait() == 0
    assert process.returncode == 0 and process.poll() == 0
    await process.stdout.aclose()
    assert_reaped(process.pid)


async def test_attributes_and_repr() -> None:
    process = await open_process(["sh", "-c", "exit 3"])
    assert process.args == ["sh", "-c", "exit 3"]
    assert isinstance(process.pid, int)
    assert process.stdin is process.stdout is process.stderr is None
    assert process.stdio is None
    assert process.universal_newlines is False
    assert process.encoding is None and process.errors is None
    assert await process.wait() == 3
    assert repr(process) == "<nursery.Process ['sh', '-c', 'exit 3']: exited with status 3>"


async def test_returncode_is_current_without_wait(exit_mode: str) -> None:
    process = await open_process(["true"])
    wait_until_exited(process.pid)
    assert process.returncode == 0  # reaped by reading it
    assert_reaped(process.pid)
    with assert_checkpoints():
        assert await process.wait() == 0


async def test_signals(exit_mode: str) -> None:
    for stop, expected in [
        (lambda p: p.terminate(), -signal.SIGTERM),
        (lambda p: p.kill(), -signal.SIGKILL),
        (lambda p: p.send_signal(signal.SIGINT), -signal.SIGINT),
    ]:
        process = await open_process(SLEEPS)
        assert process.returncode is None and process.poll() is None
        assert f"running with PID {process.pid}" in repr(process)
        stop(process)
        assert await process.wait() == expected
        assert f"exited with signal {-expected}" in repr(process)
        process.kill()  # reaped already: does nothing (its pid may be someone else's)


async def test_several_tasks_wait_for_one_child(exit_mode: str) -> None:
    process = await open_process(SLEEPS)
    results: list[int] = []

    async def waiter() -> None:
        results.append(await process.wait())

    async with nursery.open_nursery() as n:
        for _ in range(3):
            n.start_soon(waiter)
        await wait_all_tasks_blocked()
        process.kill()
    assert results == [-signal.SIGKILL] * 3


async def test_a_poll_that_reaps_wakes_the_waiter(exit_mode: str) -> None:
    process = await open_process(SLEEPS)
    async with nursery.open_nursery() as n:
        n.start_soon(process.wait)
        await wait_all_tasks_blocked()
        process.kill()
        wait_until_exited(process.pid)
        assert process.poll() == -signal.SIGKILL  # reaps while the other task waits
    assert_reaped(process.pid)


async def test_a_cancelled_wait_can_be_retried(exit_mode: str) -> None:
    process = await open_process(SLEEPS)
    for _ in range(3):
        with nursery.move_on_after(0.01):
            await process.wait()
    process.terminate()
    assert await process.wait() == -signal.SIGTERM


async def test_wait_is_a_checkpoint() -> None:
    process = await open_process(["true"])
    wait_until_exited(process.pid)
    with assert_checkpoints():
        await process.wait()


async def test_open_process_is_a_checkpoint_and_a_cancel_spawns_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spawned: list[object] = []
    monkeypatch.setattr(process_module, "_popen", lambda *a, **k: spawned.append(a))
    with nursery.CancelScope() as scope:
        scope.cancel()
        await open_process(["true"])
    assert scope.cancelled_caught and spawned == []


async def test_stderr_to_stdout_and_to_its_own_pipe() -> None:
    script = "import sys; print('out'); sys.stdout.flush(); print('err', file=sys.stderr)"
    merged = await open_process(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert merged.stderr is None and merged.stdout is not None
    assert b"".join([c async for c in merged.stdout]) == b"out\nerr\n"
    await merged.wait()
    await merged.stdout.aclose()

    separate = await open_process(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert separate.stdout is not None and separate.stderr is not None
    assert b"".join([c async for c in separate.stdout]) == b"out\n"
    assert b"".join([c async for c in separate.stderr]) == b"err\n"
    await separate.wait()
    await separate.stdout.aclose()
    await separate.stderr.aclose()


async def test_redirect_to_a_file_descriptor_and_devnull(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "out.txt")
    with open(path, "wb") as file:
        process = await open_process(["echo", "to a file"], stdout=file, stderr=file.fileno())
        await process.wait()
    with open(path, "rb") as file:
        assert file.read() == b"to a file\n"
    quiet = await open_process(["echo", "nothing"], stdout=subprocess.DEVNULL)
    assert quiet.stdout is None
    assert await quiet.wait() == 0


async def test_popen_options_pass_through(tmp_path: os.PathLike[str]) -> None:
    process = await open_process(
        ["sh", "-c", 'pwd; echo "$GREETING"'],
        stdout=subprocess.PIPE,
        cwd=tmp_path,
        env={"GREETING": "hi", "PATH": os.environ["PATH"]},
    )
    assert process.stdout is not None
    output = b"".join([c async for c in process.stdout])
    assert output == f"{os.path.realpath(tmp_path)}\nhi\n".encode()
    await process.wait()
    await process.stdout.aclose()


async def test_shell_only_when_asked() -> None:
    process = await open_process("exit $((2 + 3))", shell=True)
    assert await process.wait() == 5
    with pytest.raises(TypeError, match="shell=True"):
        await open_process("ls -l")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="shell=True"):
        await open_process(b"ls")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one string"):
        await open_process(["ls", "-l"], shell=True)


@pytest.mark.parametrize("option", ["text", "universal_newlines", "encoding", "errors", "bufsize"])
async def test_text_options_are_refused(option: str) -> None:
    value = "utf-8" if option in ("encoding", "errors") else 1
    with pytest.raises(TypeError, match=option):
        await open_process(["true"], **{option: value})


async def test_a_failed_spawn_leaves_no_fd() -> None:
    before = open_fds()
    with pytest.raises(FileNotFoundError):
        await open_process(
            ["/nonexistent/program"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    assert open_fds() == before


def test_process_is_runtime_owned_and_final() -> None:
    with pytest.raises(TypeError, match="no public constructor"):
        nursery.Process()
    with pytest.raises(TypeError, match="does not support subclassing"):
        type("Sub", (nursery.Process,), {})
