"""Threads: to_thread.run_sync, from_thread, start_thread_soon and the testing helpers.

Threads are coordinated with threading.Event and friends, never with sleeps; the run
waits for them with wait_all_tasks_blocked or by running a waiter in another thread.
"""

from __future__ import annotations

import contextvars
import functools
import io
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import outcome
import pytest

import nursery
import nursery.testing
from nursery import CapacityLimiter, from_thread, to_thread
from nursery._threads import _bridge, _cache
from nursery.lowlevel import RunToken, current_task, current_token, start_thread_soon
from nursery.testing import (
    MockClock,
    active_thread_count,
    wait_all_tasks_blocked,
    wait_all_threads_completed,
)

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def wait_for(event: threading.Event) -> None:
    """Wait, without blocking the run, until another thread sets ``event``."""
    await to_thread.run_sync(event.wait, limiter=CapacityLimiter(1))


# -- to_thread.run_sync ------------------------------------------------------------------


async def test_result_and_arguments_round_trip() -> None:
    def work(a: int, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    total, ident = await to_thread.run_sync(work, 2, 3)
    assert total == 5
    assert ident != threading.get_ident()


async def test_exception_round_trip() -> None:
    def fail() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread") as info:
        await to_thread.run_sync(fail)
    # The traceback reaches into the worker's frame.
    assert any(entry.name == "fail" for entry in info.traceback)


async def test_base_exceptions_round_trip() -> None:
    def exit_() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        await to_thread.run_sync(exit_)


async def test_thread_name() -> None:
    def name() -> str:
        return threading.current_thread().name

    assert await to_thread.run_sync(name, thread_name="my worker") == "my worker"
    default = await to_thread.run_sync(name)
    assert default == f"name from {current_task().name}"


async def test_workers_are_reused() -> None:
    first = await to_thread.run_sync(threading.get_ident)
    second = await to_thread.run_sync(threading.get_ident)
    assert first == second


async def test_contextvars_are_copied_into_the_thread() -> None:
    var.set("caller")

    def work() -> str:
        seen = var.get()
        var.set("thread")  # a copy: the caller does not see this
        return seen

    assert await to_thread.run_sync(work) == "caller"
    assert var.get() == "caller"


async def test_rejects_async_functions_and_non_callables() -> None:
    async def afn() -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        await to_thread.run_sync(afn)  # type: ignore[unused-coroutine]

    async def agen() -> AsyncIterator[None]:
        yield

    with pytest.raises(TypeError, match="async"):
        await to_thread.run_sync(agen)
    with pytest.raises(TypeError, match="async"):
        await to_thread.run_sync(functools.partial(afn))  # type: ignore[unused-coroutine]
    with pytest.raises(TypeError, match="callable"):
        await to_thread.run_sync(42)  # type: ignore[arg-type]
    assert active_thread_count() == 0


async def test_default_limiter() -> None:
    limiter = to_thread.current_default_thread_limiter()
    assert isinstance(limiter, CapacityLimiter)
    assert limiter.total_tokens == 40
    assert to_thread.current_default_thread_limiter() is limiter
    seen: list[object] = []

    def borrowers() -> None:
        seen.extend(from_thread.run_sync(lambda: limiter.statistics().borrowers))

    await to_thread.run_sync(borrowers)
    assert len(seen) == 1  # the call held one token while its thread ran
    assert limiter.borrowed_tokens == 0


def test_default_limiter_is_per_run() -> None:
    async def get() -> CapacityLimiter:
        return to_thread.current_default_thread_limiter()

    assert nursery.run(get) is not nursery.run(get)


async def test_limiter_is_enforced() -> None:
    limiter = CapacityLimiter(2)
    lock = threading.Lock()
    running = 0
    most = 0
    entered = threading.Semaphore(0)
    gate = threading.Event()

    def work(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        entered.release()
        gate.wait()
        with lock:
            running -= 1
        return i

    results: list[int] = []

    async def call(i: int) -> None:
        results.append(await to_thread.run_sync(work, i, limiter=limiter))

    async with nursery.open_nursery() as n:
        for i in range(5):
            n.start_soon(call, i)
        for _ in range(2):
            await to_thread.run_sync(entered.acquire, limiter=CapacityLimiter(1))
        await wait_all_tasks_blocked()
        assert limiter.borrowed_tokens == 2
        assert limiter.statistics().tasks_waiting == 3
        assert active_thread_count() == 2
        with lock:
            assert running == 2
        gate.set()
    assert sorted(results) == [0, 1, 2, 3, 4]
    assert most == 2
    assert limiter.borrowed_tokens == 0
    assert active_thread_count() == 0


async def test_cancel_without_abandon_waits_for_the_thread() -> None:
    started = threading.Event()
    gate = threading.Event()
    log: list[object] = []

    def work() -> str:
        started.set()
        gate.wait()
        return "finished anyway"

    async def caller(scope: nursery.CancelScope) -> None:
        with scope:
            log.append(await to_thread.run_sync(work))
            await nursery.lowlevel.checkpoint()  # the pending cancellation lands here
            log.append("not reached")
        log.append(("cancelled", scope.cancelled_caught))

    scope = nursery.CancelScope()
    async with nursery.open_nursery() as n:
        n.start_soon(caller, scope)
        await wait_for(started)
        scope.cancel()
        await wait_all_tasks_blocked()
        assert log == []  # still waiting for the thread
        gate.set()
    assert log == ["finished anyway", ("cancelled", True)]


async def test_cancel_while_waiting_for_the_limiter() -> None:
    limiter = CapacityLimiter(0)
    with nursery.CancelScope() as scope:

        async def cancel_soon() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_soon)
            await to_thread.run_sync(int, limiter=limiter)
    assert scope.cancelled_caught
    assert active_thread_count() == 0
    assert limiter.borrowed_tokens == 0


async def test_already_cancelled_call_starts_no_thread() -> None:
    def never() -> None:
        raise AssertionError("must not run")

    with nursery.CancelScope() as scope:
        scope.cancel()
        await to_thread.run_sync(never)
    assert scope.cancelled_caught
    assert active_thread_count() == 0


@pytest.mark.parametrize("ending", ["value", "exception"])
async def test_abandon_on_cancel_returns_at_once_and_drops_the_outcome(
    ending: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    started = threading.Event()
    gate = threading.Event()
    limiter = CapacityLimiter(1)

    def work() -> str:
        started.set()
        gate.wait()
        if ending == "exception":
            raise RuntimeError("dropped quietly")
        return "dropped too"

    with nursery.CancelScope() as scope:

        async def cancel_when_started() -> None:
            await wait_for(started)
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_started)
            await to_thread.run_sync(work, abandon_on_cancel=True, limiter=limiter)
    assert scope.cancelled_caught
    assert not gate.is_set()  # returned while the thread is still blocked
    assert active_thread_count() == 1
    assert limiter.borrowed_tokens == 1  # the abandoned thread still holds its token
    gate.set()
    await wait_all_threads_completed()
    assert active_thread_count() == 0
    assert limiter.borrowed_tokens == 0
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""
    assert caplog.records == []


def test_abandoned_thread_outliving_the_run_is_quiet(
    capsys: pytest.CaptureFixture[str], deliveries: list[threading.Event]
) -> None:
    started = threading.Event()
    gate = threading.Event()
    done = threading.Event()

    def work() -> None:
        started.set()
        gate.wait()
        done.set()
        raise RuntimeError("nobody hears this")

    async def main() -> None:
        with nursery.CancelScope() as scope:

            async def cancel_when_started() -> None:
                await wait_for(started)
                scope.cancel()

            async with nursery.open_nursery() as n:
                n.start_soon(cancel_when_started)
                await to_thread.run_sync(work, abandon_on_cancel=True)

    nursery.run(main)
    gate.set()
    assert done.wait(10)
    assert all(event.wait(10) for event in deliveries)
    assert capsys.readouterr().err == ""


@pytest.fixture
def deliveries(monkeypatch: pytest.MonkeyPatch) -> list[threading.Event]:
    """One event per thread that to_thread starts, set once the worker has finished
    delivering its outcome (so anything it would print has been printed)."""
    events: list[threading.Event] = []
    original = _cache.start_thread_soon

    def tracking(fn: Any, deliver: Any, name: str | None = None) -> None:
        event = threading.Event()
        events.append(event)

        def deliver_then_signal(result: Any) -> None:
            try:
                deliver(result)
            finally:
                event.set()

        original(fn, deliver_then_signal, name)

    monkeypatch.setattr(_bridge, "start_thread_soon", tracking)
    return events


async def test_wait_all_threads_completed_with_no_threads(autojump_clock: MockClock) -> None:
    assert active_thread_count() == 0
    await wait_all_threads_completed()


# -- from_thread ---------------------------------------------------------------------------


async def test_from_thread_run_in_the_calling_task() -> None:
    task = current_task()

    async def afn(x: int) -> tuple[int, bool]:
        await nursery.sleep(0)
        return x * 2, current_task() is task

    def work() -> tuple[int, bool]:
        return from_thread.run(afn, 21)

    assert await to_thread.run_sync(work) == (42, True)


async def test_from_thread_run_sync_in_the_calling_task() -> None:
    task = current_task()

    def in_run() -> bool:
        return nursery.lowlevel.in_run() and current_task() is task

    assert await to_thread.run_sync(from_thread.run_sync, in_run)


async def test_from_thread_exceptions_reach_the_thread() -> None:
    async def afail() -> None:
        raise KeyError("async")

    def fail() -> None:
        raise LookupError("sync")

    def work() -> list[str]:
        caught = []
        try:
            from_thread.run(afail)
        except KeyError:
            caught.append("run")
        try:
            from_thread.run_sync(fail)
        except LookupError:
            caught.append("run_sync")
        return caught

    assert await to_thread.run_sync(work) == ["run", "run_sync"]


async def test_from_thread_sees_the_threads_contextvars() -> None:
    var.set("caller")

    async def aget() -> str:
        return var.get()

    def work() -> tuple[str, str, str]:
        before = from_thread.run(aget)
        var.set("thread")
        return before, from_thread.run(aget), from_thread.run_sync(var.get)

    assert await to_thread.run_sync(work) == ("caller", "thread", "thread")
    assert var.get() == "caller"


async def test_from_thread_run_uses_the_callers_cancel_scope() -> None:
    def work() -> str:
        try:
            from_thread.run(nursery.sleep_forever)
        except nursery.Cancelled:
            return "cancelled in the thread"
        return "not cancelled"

    results: list[str] = []
    with nursery.CancelScope() as scope:

        async def cancel_soon() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_soon)
            results.append(await to_thread.run_sync(work))
            await nursery.lowlevel.checkpoint()
    assert results == ["cancelled in the thread"]
    assert scope.cancelled_caught


async def test_check_cancelled() -> None:
    ready = threading.Event()
    go = threading.Event()
    log: list[str] = []

    def work() -> None:
        from_thread.check_cancelled()  # not cancelled yet: returns
        log.append("first check passed")
        ready.set()
        go.wait()
        from_thread.check_cancelled()
        log.append("not reached")

    with nursery.CancelScope() as scope:

        async def cancel_when_ready() -> None:
            await wait_for(ready)
            scope.cancel()
            go.set()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_ready)
            await to_thread.run_sync(work)
    assert scope.cancelled_caught
    assert log == ["first check passed"]


async def test_check_cancelled_in_an_abandoned_thread() -> None:
    started = threading.Event()
    gate = threading.Event()
    result: list[str] = []

    def work() -> None:
        started.set()
        gate.wait()
        try:
            from_thread.check_cancelled()
        except nursery.Cancelled:
            result.append("cancelled")

    with nursery.CancelScope() as scope:

        async def cancel_when_started() -> None:
            await wait_for(started)
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_started)
            await to_thread.run_sync(work, abandon_on_cancel=True)
    gate.set()
    await wait_all_threads_completed()
    assert result == ["cancelled"]


async def test_abandoned_thread_calls_back_into_a_system_task() -> None:
    started = threading.Event()
    gate = threading.Event()
    results: list[object] = []

    async def afn() -> str:
        await nursery.sleep(0)
        return "ran"

    def work() -> None:
        started.set()
        gate.wait()
        results.append(from_thread.run(afn))
        results.append(from_thread.run_sync(lambda: "ran sync"))

    with nursery.CancelScope() as scope:

        async def cancel_when_started() -> None:
            await wait_for(started)
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_started)
            await to_thread.run_sync(work, abandon_on_cancel=True)
    gate.set()
    await wait_all_threads_completed()
    assert results == ["ran", "ran sync"]


def run_in_foreign_thread(fn: Callable[[], Any]) -> threading.Thread:
    def target() -> None:
        result.append(outcome.capture(fn))
        done.set()

    result: list[outcome.Outcome[Any]] = []
    done = threading.Event()
    thread = threading.Thread(target=target)
    thread.result = result  # type: ignore[attr-defined]
    thread.done = done  # type: ignore[attr-defined]
    thread.start()
    return thread


async def test_from_a_foreign_thread_with_a_token() -> None:
    token = current_token()
    var.set("run")

    async def afn() -> tuple[str, bool, bool]:
        await nursery.sleep(0)
        # In a system task, but (as in Trio) not protected from KeyboardInterrupt.
        return var.get(), nursery.lowlevel.in_run(), nursery.lowlevel.currently_ki_protected()

    def work() -> tuple[tuple[str, bool, bool], bool]:
        var.set("foreign")
        return (
            from_thread.run(afn, token=token),
            from_thread.run_sync(nursery.lowlevel.currently_ki_protected, token=token),
        )

    thread = run_in_foreign_thread(work)
    await wait_for(thread.done)  # type: ignore[attr-defined]
    thread.join()
    assert thread.result[0].unwrap() == (("foreign", True, False), False)  # type: ignore[attr-defined]


async def test_from_a_foreign_thread_without_a_token() -> None:
    for fn in (
        lambda: from_thread.run(nursery.sleep, 0),
        lambda: from_thread.run_sync(int),
        from_thread.check_cancelled,
    ):
        thread = run_in_foreign_thread(fn)
        await wait_for(thread.done)  # type: ignore[attr-defined]
        thread.join()
        with pytest.raises(RuntimeError, match="to_thread"):
            thread.result[0].unwrap()  # type: ignore[attr-defined]


async def test_from_thread_refuses_a_token_that_is_not_a_run_token() -> None:
    thread = run_in_foreign_thread(lambda: from_thread.run_sync(int, token="nope"))  # type: ignore[arg-type]
    await wait_for(thread.done)  # type: ignore[attr-defined]
    thread.join()
    with pytest.raises(RuntimeError, match="RunToken"):
        thread.result[0].unwrap()  # type: ignore[attr-defined]


async def test_from_thread_refuses_the_runs_own_thread() -> None:
    token = current_token()
    with pytest.raises(RuntimeError, match="own thread"):
        from_thread.run(nursery.sleep, 0, token=token)
    with pytest.raises(RuntimeError, match="own thread"):
        from_thread.run_sync(int)
    with pytest.raises(RuntimeError, match="own thread"):
        from_thread.check_cancelled()


async def test_from_thread_bad_input() -> None:
    def not_async() -> int:
        return 1

    async def really_async() -> int:
        return 2

    def work() -> list[str]:
        errors = []
        calls: list[Callable[[], object]] = [
            lambda: from_thread.run(not_async),  # type: ignore[arg-type]
            lambda: from_thread.run_sync(really_async),
        ]
        for call in calls:
            try:
                call()
            except TypeError as exc:
                errors.append(str(exc))
        return errors

    errors = await to_thread.run_sync(work)
    assert len(errors) == 2
    assert "from_thread.run()" in errors[0] and "async function" in errors[0]
    assert "from_thread.run_sync()" in errors[1] and "coroutine" in errors[1]


def test_run_finished_error_after_the_run() -> None:
    async def main() -> RunToken:
        return current_token()

    token = nursery.run(main)
    with pytest.raises(nursery.RunFinishedError):
        from_thread.run(nursery.sleep, 0, token=token)
    with pytest.raises(nursery.RunFinishedError):
        from_thread.run_sync(int, token=token)


def test_run_finished_error_when_the_run_ends_during_the_call() -> None:
    entered = threading.Event()
    thread: list[threading.Thread] = []

    async def blocked_until_shutdown() -> None:
        entered.set()
        await nursery.sleep_forever()

    async def main() -> None:
        token = current_token()
        thread.append(
            run_in_foreign_thread(lambda: from_thread.run(blocked_until_shutdown, token=token))
        )
        await wait_for(entered)
        # Returning ends the run, which cancels the system task running the call.

    nursery.run(main)
    thread[0].join(10)
    with pytest.raises(nursery.RunFinishedError) as info:
        thread[0].result[0].unwrap()  # type: ignore[attr-defined]
    assert isinstance(info.value.__cause__, nursery.Cancelled)


def test_abandoned_worker_calling_back_after_the_run() -> None:
    started = threading.Event()
    gate = threading.Event()
    done = threading.Event()
    caught: list[BaseException] = []

    def work() -> None:
        started.set()
        gate.wait()
        try:
            from_thread.run(nursery.sleep, 0)
        except BaseException as exc:
            caught.append(exc)
        done.set()

    async def main() -> None:
        with nursery.CancelScope() as scope:

            async def cancel_when_started() -> None:
                await wait_for(started)
                scope.cancel()

            async with nursery.open_nursery() as n:
                n.start_soon(cancel_when_started)
                await to_thread.run_sync(work, abandon_on_cancel=True)

    nursery.run(main)
    gate.set()
    assert done.wait(10)
    assert len(caught) == 1 and isinstance(caught[0], nursery.RunFinishedError)


# -- start_thread_soon ---------------------------------------------------------------------


def test_start_thread_soon_outside_a_run() -> None:
    delivered: list[outcome.Outcome[int]] = []
    done = threading.Event()

    def deliver(result: outcome.Outcome[int]) -> None:
        delivered.append(result)
        done.set()

    start_thread_soon(lambda: 1 + 1, deliver)
    assert done.wait(10)
    assert delivered[0].unwrap() == 2

    done.clear()

    def fail() -> int:
        raise ZeroDivisionError

    start_thread_soon(fail, deliver, name="failing job")
    assert done.wait(10)
    with pytest.raises(ZeroDivisionError):
        delivered[1].unwrap()


def test_start_thread_soon_names_the_thread() -> None:
    names: list[str] = []
    done = threading.Event()

    def deliver(result: outcome.Outcome[str]) -> None:
        names.append(result.unwrap())
        done.set()

    start_thread_soon(lambda: threading.current_thread().name, deliver, name="named")
    assert done.wait(10)
    assert names == ["named"]


def test_a_raising_deliver_is_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    printed = threading.Event()
    written: list[str] = []

    class Sink(io.StringIO):
        def write(self, text: str) -> int:
            written.append(text)
            printed.set()
            return len(text)

    monkeypatch.setattr(sys, "stderr", Sink())

    def deliver(_: object) -> None:
        raise RuntimeError("bug in deliver")

    start_thread_soon(int, deliver)
    assert printed.wait(10)
    assert "bug in deliver" in "".join(written)
    assert "start_thread_soon" in "".join(written)


def test_idle_workers_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "_cache", _cache._ThreadCache())
    monkeypatch.setattr(_cache, "IDLE_TIMEOUT", 0.01)
    threads: list[threading.Thread] = []
    done = threading.Event()

    def deliver(result: outcome.Outcome[threading.Thread]) -> None:
        threads.append(result.unwrap())
        done.set()

    start_thread_soon(threading.current_thread, deliver)
    assert done.wait(10)
    threads[0].join(10)
    assert not threads[0].is_alive()
    assert not _cache._cache.idle


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_cache_is_reset_in_a_forked_child() -> None:
    done = threading.Event()
    start_thread_soon(int, lambda _: done.set())  # the parent's cache has a worker
    assert done.wait(10)
    parent_cache = _cache._cache
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            if _cache._cache is not parent_cache and not _cache._cache.idle:
                done = threading.Event()
                start_thread_soon(int, lambda _: done.set())
                code = 0 if done.wait(10) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


async def test_a_limiter_needs_only_the_two_documented_methods() -> None:
    # Trio: "anything providing compatible acquire_on_behalf_of() and
    # release_on_behalf_of() methods".
    class CountingLimiter:
        def __init__(self) -> None:
            self.events: list[str] = []

        async def acquire_on_behalf_of(self, borrower: object) -> None:
            self.events.append("acquire")

        def release_on_behalf_of(self, borrower: object) -> None:
            self.events.append("release")

    limiter = CountingLimiter()
    result = await nursery.to_thread.run_sync(lambda: 6 * 7, limiter=limiter)  # type: ignore[arg-type]
    assert result == 42
    assert limiter.events == ["acquire", "release"]


async def test_a_limiter_whose_release_fails_makes_run_sync_raise_that_error() -> None:
    class ReleaseFails:
        async def acquire_on_behalf_of(self, borrower: object) -> None:
            pass

        def release_on_behalf_of(self, borrower: object) -> None:
            raise ValueError("release failed")

    limiter = ReleaseFails()
    with pytest.raises(ValueError, match="release failed") as info:
        await nursery.to_thread.run_sync(lambda: None, limiter=limiter)  # type: ignore[arg-type]
    assert info.value.__context__ is None

    def fails() -> None:
        raise KeyError("from the function")

    with pytest.raises(ValueError, match="release failed") as info:
        await nursery.to_thread.run_sync(fails, limiter=limiter)  # type: ignore[arg-type]
    assert isinstance(info.value.__context__, KeyError)
