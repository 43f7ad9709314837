"""to_process.run_sync: results, errors, pickling, cancellation, crashes, the limiter,
reuse, idle retirement and the shutdown at the end of the run.

What runs in the workers lives in process_helpers.py (a worker imports it by name).
The tests never sleep to wait for a worker: a worker that must be caught in the middle
of a call tells the test through a FIFO that the test waits on with wait_readable.
"""

from __future__ import annotations

import functools
import glob
import os
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path

import process_helpers as helpers
import pytest

import nursery
from nursery import CapacityLimiter, to_process
from nursery._processes import _pool
from nursery._processes._errors import RemoteTraceback
from nursery.lowlevel import wait_readable
from nursery.testing import MockClock, wait_all_tasks_blocked


def pool() -> _pool.WorkerPool:
    return _pool.current_pool()


def is_reaped(pid: int) -> bool:
    """Whether ``pid`` is neither running nor a zombie child of ours."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- results and errors --------------------------------------------------------------------


async def test_result_and_arguments_round_trip() -> None:
    total, worker_pid = await to_process.run_sync(helpers.add, 2, 3)
    assert total == 5
    assert worker_pid != os.getpid()


async def test_builtin_functions_and_large_values() -> None:
    assert await to_process.run_sync(abs, -7) == 7
    # Far more than a socket buffer, both ways: partial sends and receives.
    big = os.urandom(3_000_000)
    assert await to_process.run_sync(helpers.echo, big) == big


async def test_concurrent_calls() -> None:
    results: dict[int, int] = {}

    async def one(i: int) -> None:
        results[i] = (await to_process.run_sync(helpers.add, i, i))[0]

    async with nursery.open_nursery() as n:
        for i in range(6):
            n.start_soon(one, i)
    assert results == {i: 2 * i for i in range(6)}


async def test_exception_carries_the_workers_traceback() -> None:
    with pytest.raises(ValueError, match="from the worker") as info:
        await to_process.run_sync(helpers.fail, "from the worker")
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    text = str(cause)
    assert "traceback in worker process" in text
    assert "raise ValueError(message)" in text
    assert "in fail" in text
    # The worker's own loop is not part of it.
    assert "_serve" not in text


async def test_exception_notes_survive() -> None:
    with pytest.raises(KeyError) as info:
        await to_process.run_sync(helpers.fail_with_note)
    assert info.value.__notes__ == ["a note added in the worker"]


async def test_base_exceptions_round_trip_and_the_worker_lives_on() -> None:
    before = await to_process.run_sync(helpers.pid)
    with pytest.raises(SystemExit) as info:
        await to_process.run_sync(helpers.exit_with_system_exit, 4)
    assert info.value.code == 4
    assert await to_process.run_sync(helpers.pid) == before


async def test_exception_that_cannot_be_unpickled_here() -> None:
    with pytest.raises(TypeError, match="raised NeedsTwoArguments: this and that") as info:
        await to_process.run_sync(helpers.fail_with_awkward_exception)
    assert "cannot be sent back" in str(info.value)
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "NeedsTwoArguments" in str(info.value.__cause__)


# -- pickling ------------------------------------------------------------------------------


async def test_unpicklable_function_is_a_clear_error_and_starts_nothing() -> None:
    limiter = CapacityLimiter(1)
    with pytest.raises(TypeError, match="cannot send the function .*lambda.* cannot be pickled"):
        await to_process.run_sync(lambda: 1, limiter=limiter)

    def local() -> None:
        pass

    with pytest.raises(TypeError, match="cannot send the function .*local"):
        await to_process.run_sync(local, limiter=limiter)
    assert limiter.borrowed_tokens == 0
    assert pool().workers_started == 0


async def test_unpicklable_argument_is_named() -> None:
    with pytest.raises(TypeError, match=r"cannot send argument 1 \(<unlocked _thread.lock"):
        await to_process.run_sync(helpers.add, 1, threading.Lock())
    assert pool().workers_started == 0


async def test_unpicklable_result_is_a_clear_error() -> None:
    worker_pid = await to_process.run_sync(helpers.pid)
    with pytest.raises(TypeError, match="result of process_helpers.return_a_lock cannot be"):
        await to_process.run_sync(helpers.return_a_lock)
    # Not a crash: the same worker carries on.
    assert await to_process.run_sync(helpers.pid) == worker_pid


async def test_function_the_worker_cannot_import() -> None:
    # Picklable here (by reference to a module that exists only in this process), but
    # not importable in the worker.
    module = types.ModuleType("only_in_the_parent")
    exec("def f():\n    return 1\n", module.__dict__)
    sys.modules["only_in_the_parent"] = module
    try:
        with pytest.raises(TypeError, match="worker process cannot unpickle the function"):
            await to_process.run_sync(module.f)
    finally:
        del sys.modules["only_in_the_parent"]


async def test_bad_arguments() -> None:
    async def coroutine_function() -> None:
        pass

    with pytest.raises(TypeError, match="runs sync functions"):
        await to_process.run_sync(coroutine_function)  # type: ignore[unused-coroutine]
    with pytest.raises(TypeError, match="expected a callable"):
        await to_process.run_sync(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="limiter=.*CapacityLimiter"):
        await to_process.run_sync(abs, 1, limiter=3)  # type: ignore[arg-type]


def test_outside_a_run_is_a_runtime_error() -> None:
    coro = to_process.run_sync(abs, 1)
    with pytest.raises(RuntimeError, match="inside nursery.run"):
        coro.send(None)
    with pytest.raises(RuntimeError):
        to_process.current_default_process_limiter()


# -- cancellation and crashes --------------------------------------------------------------


async def wait_for_pid(fifo_fd: int) -> int:
    await wait_readable(fifo_fd)
    return int(os.read(fifo_fd, 100).decode())


def open_fifo(tmp_path: Path) -> tuple[str, int]:
    path = str(tmp_path / "fifo")
    os.mkfifo(path)
    # Non-blocking, so that opening needs no writer yet; readable once the worker wrote.
    return path, os.open(path, os.O_RDONLY | os.O_NONBLOCK)


async def test_cancellation_kills_the_worker_and_a_new_one_replaces_it(tmp_path: Path) -> None:
    path, fifo_fd = open_fifo(tmp_path)
    finished = []
    try:
        with nursery.CancelScope() as scope:

            async def cancel_when_spinning() -> None:
                spinning_pid.append(await wait_for_pid(fifo_fd))
                scope.cancel()

            spinning_pid: list[int] = []
            async with nursery.open_nursery() as n:
                n.start_soon(cancel_when_spinning)
                await to_process.run_sync(helpers.announce_then_spin, path)
                finished.append(True)  # never: the call raises Cancelled
    finally:
        os.close(fifo_fd)
    assert scope.cancelled_caught
    assert not finished
    [victim] = spinning_pid
    # Killed and reaped before the call raised.
    assert is_reaped(victim)
    assert pool().idle_workers == []
    replacement = await to_process.run_sync(helpers.pid)
    assert replacement != victim


async def test_cancelled_while_sending_a_large_request() -> None:
    # Far more than the socket buffer, to a worker that is still starting: the call is
    # most likely still sending when it is cancelled (and otherwise waits for the reply;
    # either way the worker is killed).
    big = bytes(20_000_000)
    limiter = CapacityLimiter(1)
    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            n.start_soon(functools.partial(to_process.run_sync, helpers.echo, big, limiter=limiter))
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    assert limiter.borrowed_tokens == 0
    assert pool().idle_workers == []
    assert pool().workers_started == 1
    assert await to_process.run_sync(helpers.echo, b"next") == b"next"


async def test_cancelled_before_the_call_touches_no_worker() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        await to_process.run_sync(helpers.pid)
    assert scope.cancelled_caught
    assert pool().workers_started == 0


async def test_cancelled_while_waiting_for_the_limiter() -> None:
    limiter = CapacityLimiter(0)
    with nursery.move_on_after(5) as scope:
        async with nursery.open_nursery() as n:
            n.start_soon(functools.partial(to_process.run_sync, helpers.pid, limiter=limiter))
            await wait_all_tasks_blocked()
            assert limiter.statistics().tasks_waiting == 1
            scope.cancel()
    assert pool().workers_started == 0


@pytest.mark.parametrize(
    ("fn", "args", "how"),
    [
        (helpers.exit_abruptly, (3,), "it exited with code 3"),
        (helpers.segfault, (), "it was killed by signal SIGSEGV"),
    ],
    ids=["os._exit", "segfault"],
)
async def test_a_dying_worker_is_a_broken_worker_error(
    fn: object, args: tuple[object, ...], how: str
) -> None:
    before = await to_process.run_sync(helpers.pid)
    with pytest.raises(to_process.BrokenWorkerError, match=how) as info:
        await to_process.run_sync(fn, *args)  # type: ignore[arg-type]
    assert f"worker process {before} died during the call to process_helpers." in str(info.value)
    assert is_reaped(before)
    # The pool recovers.
    after = await to_process.run_sync(helpers.pid)
    assert after != before
    assert isinstance(info.value, RuntimeError)


async def test_a_worker_that_died_while_idle_is_replaced() -> None:
    before = await to_process.run_sync(helpers.pid)
    os.kill(before, signal.SIGKILL)
    os.waitid(os.P_PID, before, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
    after = await to_process.run_sync(helpers.pid)
    assert after != before
    assert is_reaped(before)


# -- the limiter, reuse, retirement ------------------------------------------------------------


async def test_limiter_bounds_the_busy_workers(tmp_path: Path) -> None:
    limiter = CapacityLimiter(2)
    results: list[tuple[int, int]] = []

    async def one() -> None:
        results.append(
            await to_process.run_sync(
                helpers.count_concurrent, str(tmp_path), 2, 60, limiter=limiter
            )
        )

    async with nursery.open_nursery() as n:
        for _ in range(6):
            n.start_soon(one)
    seen = [count for _, count in results]
    assert len(results) == 6
    # Two calls were inside at once, and never more.
    assert max(seen) == 2
    pids = {worker_pid for worker_pid, _ in results}
    assert len(pids) <= 2
    assert pool().workers_started <= 2


async def test_default_limiter() -> None:
    limiter = to_process.current_default_process_limiter()
    assert limiter.total_tokens == (os.cpu_count() or 1)
    assert to_process.current_default_process_limiter() is limiter

    borrowed: list[int] = []
    borrowers: list[str] = []

    async def watch() -> None:
        await wait_all_tasks_blocked()
        borrowed.append(limiter.borrowed_tokens)
        borrowers.extend(repr(b) for b in limiter.statistics().borrowers)

    async with nursery.open_nursery() as n:
        n.start_soon(watch)
        await to_process.run_sync(helpers.pid)
    assert borrowed == [1]
    assert borrowers == ["<to_process.run_sync call of process_helpers.pid>"]
    assert limiter.borrowed_tokens == 0


def test_default_limiter_is_one_per_run() -> None:
    async def get() -> CapacityLimiter:
        return to_process.current_default_process_limiter()

    assert nursery.run(get) is not nursery.run(get)


async def test_workers_are_reused() -> None:
    pids = [await to_process.run_sync(helpers.pid) for _ in range(4)]
    assert len(set(pids)) == 1
    assert pool().workers_started == 1


async def test_idle_workers_are_retired(autojump_clock: MockClock) -> None:
    first = await to_process.run_sync(helpers.pid)
    assert [w.pid for w in pool().idle_workers] == [first]
    await nursery.sleep(_pool.IDLE_TIMEOUT / 2)
    assert [w.pid for w in pool().idle_workers] == [first]
    await nursery.sleep(_pool.IDLE_TIMEOUT)
    assert pool().idle_workers == []
    assert is_reaped(first)
    assert await to_process.run_sync(helpers.pid) != first


# -- the end of the run -----------------------------------------------------------------------


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _live_children() -> dict[int, str]:
    """Our child processes, with their command lines."""
    children: dict[int, str] = {}
    for stat_path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat_path) as f:
                stat = f.read()
            with open(stat_path.replace("stat", "cmdline")) as f:
                cmdline = f.read().replace("\0", " ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid():
            children[int(stat_path.split("/")[2])] = cmdline
    return children


def test_the_end_of_the_run_reaps_every_worker_and_closes_every_fd(tmp_path: Path) -> None:
    async def main() -> list[int]:
        pids = []
        async with nursery.open_nursery() as n:
            for i in range(3):
                n.start_soon(to_process.run_sync, helpers.add, i, i)
        pids = [w.pid for w in pool().idle_workers]
        assert pids
        # And one call cut short by the end of the run, from a system task.
        path, fifo_fd = open_fifo(tmp_path)
        try:

            async def spin() -> None:
                await to_process.run_sync(helpers.announce_then_spin, path)

            nursery.lowlevel.spawn_system_task(spin)
            pids.append(await wait_for_pid(fifo_fd))
        finally:
            os.close(fifo_fd)
        return pids

    # multiprocessing starts its resource tracker (a helper process that lives as long
    # as this interpreter, with one fd here) on first use: let that happen first.
    nursery.run(main)
    os.unlink(tmp_path / "fifo")
    fds = _open_fds()
    pids = nursery.run(main)
    assert _open_fds() == fds
    for worker_pid in pids:
        assert is_reaped(worker_pid)
        with pytest.raises(ChildProcessError):
            os.waitpid(worker_pid, os.WNOHANG)
    # No zombies: waitpid(-1) finds nothing to reap (ChildProcessError: no children at
    # all; (0, 0): only live ones), and the only live child is the resource tracker.
    try:
        assert os.waitpid(-1, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        pass
    for cmdline in _live_children().values():
        assert "multiprocessing.resource_tracker" in cmdline


def test_import_nursery_does_not_import_multiprocessing() -> None:
    # The pool's machinery (pickle, multiprocessing) loads on the first call. (socket is
    # loaded anyway: nursery.socket is part of the package, as trio.socket is of Trio.)
    code = (
        "import sys, nursery; "
        "assert nursery.to_process.run_sync; "
        "loaded = {'multiprocessing', 'pickle'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)


def test_a_call_that_ends_after_the_pool_closed_retires_its_worker() -> None:
    async def shielded_call(pids: list[int]) -> None:
        with nursery.CancelScope(shield=True):
            pids.append(await to_process.run_sync(helpers.pid))
        assert pool().idle_workers == []

    async def main() -> list[int]:
        pool()  # the pool's keeper closes it as soon as this task returns
        pids: list[int] = []
        nursery.lowlevel.spawn_system_task(shielded_call, pids)
        return pids

    [worker_pid] = nursery.run(main)
    assert is_reaped(worker_pid)


@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT has a custom handler in this process",
)
def test_keyboard_interrupt_during_a_call_kills_the_worker(tmp_path: Path) -> None:
    path, fifo_fd = open_fifo(tmp_path)
    spinning: list[int] = []

    async def interrupt_when_spinning() -> None:  # a system task: KI-protected
        spinning.append(await wait_for_pid(fifo_fd))
        signal.raise_signal(signal.SIGINT)

    async def main() -> None:
        nursery.lowlevel.spawn_system_task(interrupt_when_spinning)
        await to_process.run_sync(helpers.announce_then_spin, path)

    try:
        with pytest.raises(KeyboardInterrupt):
            nursery.run(main)
    finally:
        os.close(fifo_fd)
    [victim] = spinning
    assert is_reaped(victim)
