"""run_process under stress and cancellation: no fd and no zombie left behind, the
child stopped and reaped whatever point the cancellation arrives at, the 5-second
SIGTERM grace (on the mock clock), and custom deliver_cancel functions."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from subprocess_helpers import IGNORES_SIGTERM, SLEEPS, assert_reaped, open_fds

import nursery
import nursery._subprocess._process as process_module
from nursery import Process, run_process
from nursery.testing import MockClock, wait_all_tasks_blocked


async def test_500_calls_leak_no_fd_and_leave_no_zombie() -> None:
    before = open_fds()
    processes: list[Process] = []
    async with nursery.open_nursery() as n:
        for _ in range(500):
            processes.append(await n.start(run_process, ["true"]))
    assert open_fds() == before
    for process in processes:
        assert process.returncode == 0
        assert_reaped(process.pid)


async def test_100_calls_with_the_waiter_thread_leak_nothing(exit_mode: str) -> None:
    before = open_fds()
    for _ in range(100):
        result = await run_process(["cat"], stdin=b"x", capture_stdout=True, capture_stderr=True)
        assert result.stdout == b"x"
    assert open_fds() == before


async def test_cancelled_before_the_spawn_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[object] = []
    monkeypatch.setattr(process_module, "_popen", lambda *a, **k: spawned.append(a))
    before = open_fds()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await run_process(["true"], stdin=b"data", capture_stdout=True, capture_stderr=True)
    assert scope.cancelled_caught
    assert spawned == []
    assert open_fds() == before


# Where the cancellation finds run_process: the child and the options that put it there.
BLOCKED_AT: dict[str, tuple[list[str], dict[str, Any]]] = {
    # sleep never reads its input: feeding blocks once the pipe is full.
    "feeding stdin": (SLEEPS, {"stdin": b"x" * (1 << 20)}),
    # The child has written part of its output and goes quiet.
    "reading output": (
        ["sh", "-c", "echo partial; echo partial >&2; exec sleep 100"],
        {"capture_stdout": True, "capture_stderr": True},
    ),
    "waiting for exit": (SLEEPS, {}),
}


@pytest.mark.parametrize("where", sorted(BLOCKED_AT))
async def test_a_cancellation_terminates_and_reaps_the_child(exit_mode: str, where: str) -> None:
    command, options = BLOCKED_AT[where]
    before = open_fds()
    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            process = await n.start(partial(run_process, command, **options))
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    assert process.returncode == -signal.SIGTERM
    assert_reaped(process.pid)
    assert open_fds() == before


async def test_a_direct_call_is_cancelled_the_same_way(
    exit_mode: str, autojump_clock: MockClock
) -> None:
    before = open_fds()
    delivered: list[Process] = []

    async def terminate(process: Process) -> None:
        delivered.append(process)
        process.terminate()

    with nursery.move_on_after(1) as scope:  # fires once everything is blocked
        await run_process(SLEEPS, stdin=b"x" * (1 << 20), deliver_cancel=terminate)
    assert scope.cancelled_caught
    [process] = delivered
    assert process.returncode == -signal.SIGTERM
    assert_reaped(process.pid)
    assert open_fds() == before


async def test_a_child_ignoring_sigterm_gets_sigkill_after_5_seconds(
    exit_mode: str, autojump_clock: MockClock
) -> None:
    with pytest.warns(RuntimeWarning, match="SIGKILL"):
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                process = await n.start(
                    partial(run_process, IGNORES_SIGTERM, stdout=subprocess.PIPE)
                )
                assert process.stdout is not None
                assert await process.stdout.receive_some() == b"ready\n"  # the trap is set
                cancelled_at = nursery.current_time()
                scope.cancel()
    assert nursery.current_time() - cancelled_at == pytest.approx(5)
    assert process.returncode == -signal.SIGKILL
    assert_reaped(process.pid)
    await process.stdout.aclose()


async def test_no_sigkill_and_no_warning_when_sigterm_works(
    recwarn: pytest.WarningsRecorder,
) -> None:
    # The real clock: an autojump clock would skip the grace period while the child
    # is still busy dying of its SIGTERM.
    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            process = await n.start(run_process, SLEEPS)
            await wait_all_tasks_blocked()
            scope.cancel()
    assert process.returncode == -signal.SIGTERM
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


async def test_a_custom_deliver_cancel_is_used_and_stopped_once_the_child_exits(
    exit_mode: str,
) -> None:
    calls: list[Process] = []
    finished = False

    async def interrupt_then_hang(process: Process) -> None:
        nonlocal finished
        calls.append(process)
        process.send_signal(signal.SIGINT)
        await nursery.sleep_forever()  # cancelled by run_process once the child exits
        finished = True

    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            process = await n.start(
                partial(run_process, SLEEPS, deliver_cancel=interrupt_then_hang)
            )
            await wait_all_tasks_blocked()
            scope.cancel()
    assert calls == [process] and not finished
    assert process.returncode == -signal.SIGINT
    assert_reaped(process.pid)


async def test_a_gentle_deliver_cancel_lets_the_child_finish_its_work() -> None:
    async def close_its_input(process: Process) -> None:
        assert process.stdin is not None
        await process.stdin.aclose()  # cat exits by itself, with status 0

    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            process = await n.start(
                partial(run_process, ["cat"], stdin=subprocess.PIPE, deliver_cancel=close_its_input)
            )
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    assert process.returncode == 0


async def test_an_error_in_deliver_cancel_propagates_and_the_child_is_still_reaped() -> None:
    async def kill_then_fail(process: Process) -> None:
        process.kill()
        raise ValueError("deliver_cancel failed")

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                process = await n.start(partial(run_process, SLEEPS, deliver_cancel=kill_then_fail))
                await wait_all_tasks_blocked()
                scope.cancel()
    assert info.group_contains(ValueError, match="deliver_cancel failed")
    assert process.returncode == -signal.SIGKILL
    assert_reaped(process.pid)


async def test_a_failing_helper_stops_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    # An error while collecting output cancels the rest and stops the child.
    from nursery import _fd_stream

    real_receive = _fd_stream.FdStream.receive_some

    async def failing_receive(self: Any, max_bytes: int | None = None) -> bytes:
        await real_receive(self, max_bytes)
        raise OSError("disk on fire")

    monkeypatch.setattr(_fd_stream.FdStream, "receive_some", failing_receive)
    processes: list[Process] = []

    async def remember(process: Process) -> None:
        processes.append(process)
        process.terminate()

    deliver: Callable[[Process], Awaitable[None]] = remember
    with pytest.raises(ExceptionGroup) as info:
        await run_process(
            ["sh", "-c", "echo data; exec sleep 100"], capture_stdout=True, deliver_cancel=deliver
        )
    assert info.group_contains(OSError, match="disk on fire")
    [process] = processes
    assert process.returncode == -signal.SIGTERM
    assert_reaped(process.pid)


async def test_the_default_delivery_warns_when_terminate_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_terminate = Process.terminate

    def terminate_then_fail(self: Process) -> None:
        real_terminate(self)
        raise OSError("no such luck")

    monkeypatch.setattr(Process, "terminate", terminate_then_fail)
    with pytest.warns(RuntimeWarning, match="no such luck"):
        async with nursery.open_nursery() as n:
            n.start_soon(run_process, SLEEPS)
            await wait_all_tasks_blocked()
            n.cancel_scope.cancel()


async def test_sigterm_ignored_warning_names_the_signal(
    autojump_clock: MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Process, "terminate", lambda self: None)
    with pytest.warns(RuntimeWarning, match="ignored SIGTERM"):
        async with nursery.open_nursery() as n:
            n.start_soon(run_process, SLEEPS)
            await wait_all_tasks_blocked()
            n.cancel_scope.cancel()


def test_an_error_in_deliver_cancel_is_grouped_twice_as_in_trio() -> None:
    # The nursery around run_process, and the one inside it.
    async def terminate_then_fail(process: Process) -> None:
        process.terminate()
        raise ValueError("delivery failed")

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(partial(run_process, SLEEPS, deliver_cancel=terminate_then_fail))
            await wait_all_tasks_blocked()
            n.cancel_scope.cancel()

    with pytest.raises(ExceptionGroup) as info:
        nursery.run(main, strict_exception_groups=True)
    [inner] = info.value.exceptions
    assert isinstance(inner, ExceptionGroup)
    [error] = inner.exceptions
    assert isinstance(error, ValueError) and str(error) == "delivery failed"


async def test_sigchld_ignored_means_status_zero(exit_mode: str) -> None:
    # With SIGCHLD ignored the kernel reaps children itself, so the status is lost;
    # like subprocess, we report 0 instead of failing or hanging.
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        process = await nursery.lowlevel.open_process(SLEEPS)
        async with nursery.open_nursery() as n:
            n.start_soon(process.wait)
            await wait_all_tasks_blocked()
            process.kill()
        assert process.returncode == 0
    finally:
        signal.signal(signal.SIGCHLD, previous)


async def test_cancelled_after_any_number_of_steps_leaves_nothing_behind(
    exit_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sibling cancels after k of its own checkpoints, so the cancellation finds
    # run_process wherever it happens to be: not started yet, spawning, feeding,
    # reading, or waiting. Whatever the point, the outcome is either a complete result
    # or a cancellation, with every child reaped and every fd closed.
    spawned: list[Process] = []
    real_spawn = process_module.spawn

    def recording_spawn(*args: Any) -> Process:
        process = real_spawn(*args)
        spawned.append(process)
        return process

    monkeypatch.setattr("nursery._subprocess._run.spawn", recording_spawn)
    data = bytes(range(256)) * 800  # 200 kB: more than a pipe holds, both ways
    before = open_fds()
    outcomes = set()
    for steps in range(0, 40, 3):

        async def cancel_after(scope: nursery.CancelScope, steps: int = steps) -> None:
            for _ in range(steps):
                await nursery.lowlevel.checkpoint()
            scope.cancel()

        result = None
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                n.start_soon(cancel_after, n.cancel_scope)
                result = await run_process(["cat"], stdin=data, capture_stdout=True)
        if result is not None:
            assert result.stdout == data
            outcomes.add("completed")
        else:
            assert scope.cancelled_caught or n.cancel_scope.cancelled_caught
            outcomes.add("cancelled")
        assert open_fds() == before
    for process in spawned:
        assert process.returncode is not None
        assert_reaped(process.pid)
    assert "cancelled" in outcomes
