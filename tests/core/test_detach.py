"""Detaching a task's coroutine to another coroutine runner, and back."""

from __future__ import annotations

import types
from collections.abc import Generator
from typing import Any

import outcome
import pytest

import nursery
from nursery import lowlevel
from nursery.lowlevel import Abort, RaiseCancelT, Task
from nursery.testing import wait_all_tasks_blocked


@types.coroutine
def yield_to_runner(value: object) -> Generator[Any, Any, Any]:
    """What code running under a foreign coroutine runner does to talk to it."""
    return (yield value)


def abort_fails(_: RaiseCancelT) -> Abort:
    return Abort.FAILED


async def test_temporary_detach_hands_the_coroutine_over_and_back() -> None:
    log: list[object] = []
    tasks: list[Task] = []

    async def detaching() -> str:
        task = lowlevel.current_task()
        tasks.append(task)
        first = await lowlevel.temporarily_detach_coroutine_object(abort_fails)
        log.append(("first send", first))
        reply = await yield_to_runner("request")
        log.append(("reply", reply))
        await lowlevel.reattach_detached_coroutine_object(task, "done")
        log.append("reattached")
        await nursery.sleep(0)  # nursery's own waits work again
        assert lowlevel.current_task() is task
        return "finished"

    async def foreign_runner() -> None:
        await wait_all_tasks_blocked()
        coro = tasks[0].coro
        # The task is asleep as far as nursery is concerned; its coroutine is ours.
        assert coro.send("go") == "request"
        assert coro.send("answer") == "done"
        log.append("runner let go")

    async with nursery.open_nursery() as n:
        n.start_soon(detaching)
        n.start_soon(foreign_runner)
    assert log == [("first send", "go"), ("reply", "answer"), "runner let go", "reattached"]


async def test_the_foreign_runner_may_throw_into_a_detached_coroutine() -> None:
    tasks: list[Task] = []
    caught: list[BaseException] = []

    async def detaching() -> None:
        task = lowlevel.current_task()
        tasks.append(task)
        try:
            await lowlevel.temporarily_detach_coroutine_object(abort_fails)
        except ValueError as exc:
            caught.append(exc)
        await lowlevel.reattach_detached_coroutine_object(task, "back")

    async with nursery.open_nursery() as n:
        n.start_soon(detaching)
        await wait_all_tasks_blocked()
        assert tasks[0].coro.throw(ValueError("from the other runner")) == "back"
    assert [str(exc) for exc in caught] == ["from the other runner"]


async def test_cancelling_a_detached_task_calls_its_abort_function() -> None:
    tasks: list[Task] = []
    scopes: list[nursery.CancelScope] = []
    raisers: list[RaiseCancelT] = []

    def abort(raise_cancel: RaiseCancelT) -> Abort:
        raisers.append(raise_cancel)
        return Abort.FAILED

    async def detaching() -> None:
        task = lowlevel.current_task()
        tasks.append(task)
        with nursery.CancelScope() as scope:
            scopes.append(scope)
            await lowlevel.temporarily_detach_coroutine_object(abort)
            # Told by the other runner to stop: come back, then deliver the
            # cancellation the abort function was handed.
            await lowlevel.reattach_detached_coroutine_object(task, "stopped")
            raisers[0]()
        assert scope.cancelled_caught

    async with nursery.open_nursery() as n:
        n.start_soon(detaching)
        await wait_all_tasks_blocked()
        scopes[0].cancel()
        await wait_all_tasks_blocked()
        assert len(raisers) == 1  # called once; the task still sleeps (FAILED)
        assert tasks[0].coro.send("stop") == "stopped"


async def test_reattach_checks_its_caller() -> None:
    with pytest.raises(TypeError, match="expected a Task"):
        await lowlevel.reattach_detached_coroutine_object("task", None)  # type: ignore[arg-type]
    # The current task is running, not detached: nothing to reattach.
    with pytest.raises(RuntimeError, match="not asleep"):
        await lowlevel.reattach_detached_coroutine_object(lowlevel.current_task(), None)

    async def sleeper() -> None:
        await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        (other,) = [t for t in n.child_tasks]
        # Its coroutine is suspended, so this cannot be code running inside it.
        with pytest.raises(RuntimeError, match="from inside the coroutine"):
            await lowlevel.reattach_detached_coroutine_object(other, None)
        n.cancel_scope.cancel()


async def test_temporary_detach_wants_an_abort_function() -> None:
    with pytest.raises(TypeError, match="abort function"):
        await lowlevel.temporarily_detach_coroutine_object(None)  # type: ignore[arg-type]


async def test_permanent_detach_ends_the_task_with_the_outcome() -> None:
    coros: list[Any] = []

    async def leaving() -> None:
        coros.append(lowlevel.current_task().coro)
        first = await lowlevel.permanently_detach_coroutine_object(outcome.Value(None))
        second = await yield_to_runner(("got", first))
        return second  # type: ignore[no-any-return]

    async with nursery.open_nursery() as n:
        n.start_soon(leaving)
    # The nursery closed: the task is over for nursery, its coroutine is not.
    (coro,) = coros
    assert coro.send("hello") == ("got", "hello")
    with pytest.raises(StopIteration) as stop:
        coro.send("bye")
    assert stop.value.value == "bye"


async def test_permanent_detach_with_an_error_reports_it_to_the_nursery() -> None:
    coros: list[Any] = []

    async def leaving() -> None:
        coros.append(lowlevel.current_task().coro)
        await lowlevel.permanently_detach_coroutine_object(outcome.Error(KeyError("k")))

    with pytest.RaisesGroup(KeyError):
        async with nursery.open_nursery() as n:
            n.start_soon(leaving)
    coros[0].close()


async def test_permanent_detach_of_a_cancelled_task_leaves_it_gone() -> None:
    coros: list[Any] = []

    async def leaving() -> None:
        coros.append(lowlevel.current_task().coro)
        await lowlevel.permanently_detach_coroutine_object(outcome.Value(None))

    async with nursery.open_nursery() as n:
        n.cancel_scope.cancel()
        n.start_soon(leaving)
    # The pending cancellation found no way back into the coroutine.
    with pytest.raises(StopIteration):
        coros[0].send(None)


async def test_permanent_detach_checks_its_arguments_and_state() -> None:
    with pytest.raises(TypeError, match="outcome"):
        await lowlevel.permanently_detach_coroutine_object(None)  # type: ignore[arg-type]
    async with nursery.open_nursery():
        with pytest.raises(RuntimeError, match="open nurseries"):
            await lowlevel.permanently_detach_coroutine_object(outcome.Value(None))


async def test_permanent_detach_inside_a_cancel_scope_is_an_error_for_the_nursery() -> None:
    coros: list[Any] = []

    async def leaving() -> None:
        coros.append(lowlevel.current_task().coro)
        with nursery.CancelScope():
            await lowlevel.permanently_detach_coroutine_object(outcome.Value(None))

    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="cancel scope")):
        async with nursery.open_nursery() as n:
            n.start_soon(leaving)
    coros[0].close()
