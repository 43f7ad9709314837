"""Edge cases of reschedule() and of abort functions: bad arguments, abort functions
that capture the cancellation, reschedule their own task, raise, or return garbage."""

from __future__ import annotations

import math
from typing import Any

import outcome
import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import (
    Abort,
    RaiseCancelT,
    Task,
    checkpoint,
    current_statistics,
    current_task,
    current_token,
    reschedule,
    wait_task_rescheduled,
)
from nursery.testing import MockClock, wait_all_tasks_blocked

# ---------------------------------------------------------------- reschedule


async def test_reschedule_with_an_error_outcome_raises_it_in_the_task() -> None:
    got: list[BaseException] = []
    tasks: list[Task] = []

    async def sleeper() -> None:
        tasks.append(current_task())
        try:
            await wait_task_rescheduled(lambda _: Abort.SUCCEEDED)
        except KeyError as exc:
            got.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        error = KeyError("delivered")
        reschedule(tasks[0], outcome.Error(error))
    assert got == [error]


async def test_reschedule_with_something_other_than_an_outcome_is_a_type_error() -> None:
    tasks: list[Task] = []

    async def sleeper() -> object:
        tasks.append(current_task())
        return await wait_task_rescheduled(lambda _: Abort.SUCCEEDED)

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        with pytest.raises(TypeError, match="outcome"):
            reschedule(tasks[0], "value")  # type: ignore[arg-type]
        # The task is still asleep and can be woken properly.
        assert current_statistics().tasks_runnable == 0
        reschedule(tasks[0], outcome.Value("value"))


async def test_reschedule_of_a_finished_task_is_a_runtime_error() -> None:
    tasks: list[Task] = []

    async def quick() -> None:
        tasks.append(current_task())

    async with nursery.open_nursery() as n:
        n.start_soon(quick)
    with pytest.raises(RuntimeError, match="not a living task"):
        reschedule(tasks[0])


def test_reschedule_of_a_task_from_another_run_is_a_runtime_error() -> None:
    async def first() -> Task:
        return current_task()

    old_task = nursery.run(first)

    async def second() -> None:
        with pytest.raises(RuntimeError, match="not a living task"):
            reschedule(old_task)

    nursery.run(second)


# ---------------------------------------------------------------- abort functions


async def test_abort_function_may_capture_the_cancellation() -> None:
    captured: list[BaseException] = []
    tasks: list[Task] = []

    def abort(raise_cancel: RaiseCancelT) -> Abort:
        try:
            raise_cancel()
        except nursery.Cancelled as exc:
            captured.append(exc)
        return Abort.FAILED

    async def sleeper(scope: nursery.CancelScope) -> None:
        tasks.append(current_task())
        with scope:
            await wait_task_rescheduled(abort)

    scope = nursery.CancelScope()
    async with nursery.open_nursery() as n:
        n.start_soon(sleeper, scope)
        await wait_all_tasks_blocked()
        scope.cancel("captured by abort")
        # Abort.FAILED: the task stays asleep until someone wakes it.
        await wait_all_tasks_blocked()
        assert current_statistics().tasks_runnable == 0
        (exc,) = captured
        assert isinstance(exc, nursery.Cancelled)
        assert exc.reason == "captured by abort"
        reschedule(tasks[0], outcome.Error(exc))
    assert scope.cancelled_caught


class HangGuard(Instrument):
    """Wakes ``stuck`` (through the entry queue) if the loop is about to sleep with
    nothing scheduled, so a test of a hang fails instead of hanging."""

    def __init__(self) -> None:
        self.stuck: Task | None = None
        self.rescued = False

    def before_io_wait(self, timeout: float) -> None:
        if self.stuck is None or self.rescued:
            return
        stats = current_statistics()
        if stats.tasks_runnable == 0 and stats.seconds_to_next_deadline == math.inf:
            self.rescued = True
            current_token().run_sync_soon(self._rescue, self.stuck)

    @staticmethod
    def _rescue(task: Task) -> None:
        try:
            reschedule(task)
        except RuntimeError:  # pragma: no cover - it finished after all
            pass


def run_with_failing_abort(abort: Any) -> tuple[BaseException, HangGuard]:
    guard = HangGuard()

    async def sleeper() -> None:
        task = current_task()

        def watched_abort(raise_cancel: RaiseCancelT) -> Abort:
            guard.stuck = task  # from now on, this task has nothing to wake it
            return abort(raise_cancel)  # type: ignore[no-any-return]

        await wait_task_rescheduled(watched_abort)

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(sleeper)
            await wait_all_tasks_blocked()
            n.cancel_scope.cancel()

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main, instruments=[guard])
    return info.value, guard


def raising_abort(_: RaiseCancelT) -> Abort:
    raise ZeroDivisionError("abort function bug")


def bad_return_abort(_: RaiseCancelT) -> Abort:
    return True  # type: ignore[return-value]


def test_abort_function_that_raises_ends_the_run_with_internal_error() -> None:
    error, _ = run_with_failing_abort(raising_abort)
    assert "abort function raised" in str(error)
    assert isinstance(error.__cause__, ZeroDivisionError)


def test_abort_function_returning_a_non_abort_ends_the_run_with_internal_error() -> None:
    error, _ = run_with_failing_abort(bad_return_abort)
    assert "True" in str(error)
    assert "Abort.SUCCEEDED or Abort.FAILED" in str(error)


def none_return_abort(_: RaiseCancelT) -> Abort:
    return None  # type: ignore[return-value]  # a forgotten return statement


def test_abort_function_returning_none_ends_the_run_with_internal_error() -> None:
    error, _ = run_with_failing_abort(none_return_abort)
    assert "returned None" in str(error)


@pytest.mark.parametrize(
    "abort",
    [raising_abort, bad_return_abort, none_return_abort],
    ids=["raises", "returns", "returns-none"],
)
def test_failed_abort_function_does_not_leave_the_run_hanging(abort: Any) -> None:
    _, guard = run_with_failing_abort(abort)
    assert not guard.rescued


def test_abort_function_may_reschedule_its_own_task_at_once() -> None:
    # Abort.FAILED plus an immediate reschedule() from inside the abort function is
    # a legitimate way to deliver the cancellation (or anything else) to the task,
    # including when the abort function runs as the task suspends.
    guard = HangGuard()

    async def main() -> bool:
        task = current_task()

        def abort(raise_cancel: RaiseCancelT) -> Abort:
            guard.stuck = task
            reschedule(task, outcome.capture(raise_cancel))
            return Abort.FAILED

        with nursery.CancelScope() as scope:
            scope.cancel()
            await wait_task_rescheduled(abort)
        guard.stuck = None
        return scope.cancelled_caught

    assert nursery.run(main, instruments=[guard]) is True
    assert not guard.rescued


def test_abort_function_that_wakes_its_task_and_then_fails_wakes_it_once() -> None:
    got: list[object] = []

    async def main() -> None:
        task = current_task()

        def abort(raise_cancel: RaiseCancelT) -> Abort:
            reschedule(task, outcome.Value("woken by the abort function"))
            raise ZeroDivisionError("and then it failed")

        with nursery.CancelScope() as scope:
            scope.cancel()
            got.append(await wait_task_rescheduled(abort))
        got.append("left the scope")

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    # Woken once, with what the abort function sent; not a second time by the kernel.
    assert got == ["woken by the abort function", "left the scope"]


async def test_reschedule_of_a_task_that_is_waiting_to_run_is_a_runtime_error() -> None:
    ran: list[str] = []

    async def child() -> None:
        ran.append("child ran")

    async with nursery.open_nursery() as n:
        n.start_soon(child)
        (task,) = n.child_tasks
        with pytest.raises(RuntimeError, match="not asleep"):
            reschedule(task)
    assert ran == ["child ran"]


async def test_reschedule_of_the_running_task_itself_is_a_runtime_error(
    autojump_clock: MockClock,
) -> None:
    refused = False
    try:
        reschedule(current_task())
    except RuntimeError:
        refused = True
    # Had it been accepted, the task would now be scheduled twice, and the extra
    # wake-up would end the sleep below early (sleep_forever raises RuntimeError).
    await checkpoint()
    with nursery.move_on_after(1000) as scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught
    assert refused
