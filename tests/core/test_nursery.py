"""Nurseries: spawning, waiting, error propagation, start()/started()."""

from __future__ import annotations

import pytest

import nursery
from nursery.lowlevel import Task, current_task
from nursery.testing import Sequencer, wait_all_tasks_blocked


async def raise_after(delay: float, exc: BaseException) -> None:
    await nursery.sleep(delay)
    raise exc


# ---------------------------------------------------------------- waiting


async def test_nursery_waits_for_all_children(autojump_clock: object) -> None:
    done: list[float] = []

    async def child(delay: float) -> None:
        await nursery.sleep(delay)
        done.append(delay)

    async with nursery.open_nursery() as n:
        n.start_soon(child, 3)
        n.start_soon(child, 1)
        n.start_soon(child, 2)
    assert sorted(done) == [1, 2, 3]
    assert nursery.current_time() == 3


async def test_children_run_concurrently() -> None:
    # Each child needs the other to make progress, so they cannot run one
    # after the other.
    seq = Sequencer()
    log: list[str] = []

    async def ping() -> None:
        async with seq(0):
            log.append("ping 0")
        async with seq(2):
            log.append("ping 2")

    async def pong() -> None:
        async with seq(1):
            log.append("pong 1")
        async with seq(3):
            log.append("pong 3")

    async with nursery.open_nursery() as n:
        n.start_soon(ping)
        n.start_soon(pong)
    assert log == ["ping 0", "pong 1", "ping 2", "pong 3"]


async def test_start_soon_does_not_run_the_child_immediately() -> None:
    ran: list[str] = []

    async def child() -> None:
        ran.append("child")

    async with nursery.open_nursery() as n:
        n.start_soon(child)
        assert ran == []
    assert ran == ["child"]


async def test_child_can_spawn_into_its_own_nursery_after_the_body_ended() -> None:
    # The nursery stays open while any child runs, even after its body ended.
    log: list[str] = []

    async def late() -> None:
        log.append("late child ran")

    async def first(n: nursery.Nursery) -> None:
        await wait_all_tasks_blocked()  # the body is waiting in __aexit__ now
        n.start_soon(late)

    async with nursery.open_nursery() as n:
        n.start_soon(first, n)
    assert log == ["late child ran"]


async def test_spawning_into_a_closed_nursery_is_a_runtime_error() -> None:
    async with nursery.open_nursery() as n:
        pass
    with pytest.raises(RuntimeError):
        n.start_soon(nursery.sleep, 0)
    with pytest.raises(RuntimeError):
        await n.start(nursery.sleep, 0)


async def test_nursery_exit_without_children_is_a_schedule_point_only() -> None:
    # Exiting a nursery that has nothing to wait for never raises Cancelled,
    # but it still lets other tasks run.
    me = current_task()
    with nursery.CancelScope() as scope:
        scope.cancel()
        before = me._schedule_points
        async with nursery.open_nursery():
            pass
        assert me._schedule_points > before
    assert not scope.cancelled_caught


async def test_cancelled_nursery_still_waits_for_its_children(autojump_clock: object) -> None:
    # Cancellation reaches the children, but the parent is not let out of
    # __aexit__ before they have finished, even if their cleanup takes time.
    log: list[str] = []

    async def child() -> None:
        try:
            await nursery.sleep_forever()
        finally:
            with nursery.CancelScope(shield=True):
                await nursery.sleep(5)
            log.append("child cleaned up")

    with nursery.CancelScope() as scope:
        try:
            async with nursery.open_nursery() as n:
                n.start_soon(child)
                await wait_all_tasks_blocked()
                scope.cancel()
        finally:
            log.append("nursery exited")
    assert log == ["child cleaned up", "nursery exited"]
    assert nursery.current_time() == 5
    assert scope.cancelled_caught


# ---------------------------------------------------------------- attributes


async def test_parent_task_is_the_opener() -> None:
    async with nursery.open_nursery() as n:
        assert n.parent_task is current_task()


async def test_child_tasks_lists_running_children() -> None:
    async with nursery.open_nursery() as n:
        assert n.child_tasks == frozenset()
        n.start_soon(nursery.sleep_forever)
        n.start_soon(nursery.sleep_forever)
        assert isinstance(n.child_tasks, frozenset)
        assert len(n.child_tasks) == 2
        assert all(isinstance(t, Task) for t in n.child_tasks)
        assert all(t.parent_nursery is n for t in n.child_tasks)
        n.cancel_scope.cancel()
    assert n.child_tasks == frozenset()


async def test_finished_children_leave_child_tasks(autojump_clock: object) -> None:
    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep, 1)
        n.start_soon(nursery.sleep_forever)
        await nursery.sleep(2)
        (left,) = n.child_tasks
        assert "sleep_forever" in left.name
        n.cancel_scope.cancel()


async def test_cancel_scope_cancels_body_and_children_cleanly() -> None:
    cancelled: list[str] = []

    async def child(name: str) -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            cancelled.append(name)
            raise

    async with nursery.open_nursery() as n:
        n.start_soon(child, "a")
        n.start_soon(child, "b")
        await wait_all_tasks_blocked()
        n.cancel_scope.cancel()
        await nursery.sleep_forever()  # the body is cancelled too
    assert sorted(cancelled) == ["a", "b"]
    assert n.cancel_scope.cancelled_caught


# ---------------------------------------------------------------- errors


async def test_one_child_error_comes_wrapped_in_an_exception_group() -> None:
    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(raise_after, 0, ValueError("child"))
    assert len(info.value.exceptions) == 1
    assert isinstance(info.value.exceptions[0], ValueError)


async def test_body_error_comes_wrapped_in_an_exception_group() -> None:
    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery():
            raise KeyError("body")
    assert [type(e) for e in info.value.exceptions] == [KeyError]


async def test_errors_from_several_children_are_grouped_together() -> None:
    async def fail_together(seq: Sequencer, n: int, exc: Exception) -> None:
        # Both children fail from inside one shielded window, so neither is
        # cancelled before it raises.
        with nursery.CancelScope(shield=True):
            async with seq(n):
                pass
            await wait_all_tasks_blocked()
        raise exc

    seq = Sequencer()
    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(fail_together, seq, 0, ValueError("one"))
            n.start_soon(fail_together, seq, 1, KeyError("two"))
    assert sorted(type(e).__name__ for e in info.value.exceptions) == ["KeyError", "ValueError"]


async def test_child_error_cancels_siblings_and_body() -> None:
    sources: list[str] = []

    async def sibling() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled as exc:
            sources.append(exc.source)
            raise

    async def failing() -> None:
        await wait_all_tasks_blocked()
        raise ValueError("fail")

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(sibling)
            n.start_soon(failing)
            try:
                await nursery.sleep_forever()
            except nursery.Cancelled as exc:
                sources.append(exc.source)
                raise
    assert sources == ["nursery", "nursery"]
    # The Cancelled exceptions were caught by the nursery's own scope.
    assert [type(e) for e in info.value.exceptions] == [ValueError]


async def test_body_error_cancels_children() -> None:
    cancelled: list[bool] = []

    async def child() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            cancelled.append(True)
            raise

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(child)
            await wait_all_tasks_blocked()
            raise ValueError("body")
    assert cancelled == [True]
    assert [type(e) for e in info.value.exceptions] == [ValueError]


async def test_base_exception_from_a_child_comes_in_a_base_exception_group() -> None:
    with pytest.raises(BaseExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(raise_after, 0, KeyboardInterrupt())
    assert not isinstance(info.value, ExceptionGroup)
    assert [type(e) for e in info.value.exceptions] == [KeyboardInterrupt]


async def test_child_error_in_nested_nursery_is_grouped_at_each_level() -> None:
    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as outer:

            async def inner_level() -> None:
                async with nursery.open_nursery() as inner:
                    inner.start_soon(raise_after, 0, ValueError("deep"))

            outer.start_soon(inner_level)
    (inner_group,) = info.value.exceptions
    assert isinstance(inner_group, ExceptionGroup)
    assert [type(e) for e in inner_group.exceptions] == [ValueError]


async def test_cancelled_body_with_no_other_error_exits_cleanly() -> None:
    with nursery.CancelScope() as outer:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep_forever)
            outer.cancel()
            await nursery.sleep_forever()
    assert outer.cancelled_caught


# ---------------------------------------------------------------- start()


async def test_start_returns_the_value_passed_to_started() -> None:
    async def child(*, task_status: nursery.TaskStatus[str]) -> None:
        task_status.started("ready")
        await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        assert await n.start(child) == "ready"
        n.cancel_scope.cancel()


async def test_start_returns_none_when_started_gets_no_value() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        task_status.started()

    async with nursery.open_nursery() as n:
        assert await n.start(child) is None


async def test_start_passes_positional_args_and_name() -> None:
    async def child(a: int, b: int, *, task_status: nursery.TaskStatus[int]) -> None:
        task_status.started(a * b)
        await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        assert await n.start(child, 6, 7, name="multiplier") == 42
        (task,) = n.child_tasks
        assert task.name == "multiplier"
        n.cancel_scope.cancel()


async def test_start_waits_for_started_and_the_child_keeps_running_after(
    autojump_clock: object,
) -> None:
    log: list[str] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        await nursery.sleep(1)
        log.append("initialized")
        task_status.started()
        await nursery.sleep(1)
        log.append("finished")

    async with nursery.open_nursery() as n:
        await n.start(child)
        log.append("start returned")
    assert log == ["initialized", "start returned", "finished"]


async def test_error_before_started_is_raised_by_start_unwrapped() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        raise ValueError("init failed")

    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep_forever)
        with pytest.raises(ValueError, match="init failed"):
            await n.start(child)
        # The nursery itself was not affected: its other child still runs.
        assert not n.cancel_scope.cancel_called
        assert len(n.child_tasks) == 1
        n.cancel_scope.cancel()


async def test_error_after_started_goes_to_the_nursery() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        task_status.started()
        await wait_all_tasks_blocked()
        raise ValueError("after start")

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            await n.start(child)
    assert [type(e) for e in info.value.exceptions] == [ValueError]


async def test_child_exiting_without_started_is_a_runtime_error() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        pass

    async with nursery.open_nursery() as n:
        with pytest.raises(RuntimeError):
            await n.start(child)


async def test_cancelling_the_start_caller_cancels_the_unstarted_child() -> None:
    cancelled: list[bool] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            cancelled.append(True)
            raise

    async with nursery.open_nursery() as n:
        with nursery.CancelScope() as scope:

            async def cancel_soon() -> None:
                await wait_all_tasks_blocked()
                scope.cancel()

            n.start_soon(cancel_soon)
            await n.start(child)
    assert cancelled == [True]
    assert scope.cancelled_caught


async def test_unstarted_child_runs_under_the_callers_deadline(autojump_clock: object) -> None:
    deadlines: list[float] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        deadlines.append(nursery.current_effective_deadline())
        task_status.started()
        deadlines.append(nursery.current_effective_deadline())

    async with nursery.open_nursery() as n:
        with nursery.move_on_at(50):
            await n.start(child)
    # Before started(), the child is under start()'s caller and its timeout;
    # after, it is under the nursery, which has no deadline.
    assert deadlines == [50, float("inf")]


async def test_started_child_moves_to_the_target_nursery() -> None:
    async def child(*, task_status: nursery.TaskStatus[Task]) -> None:
        task_status.started(current_task())
        await nursery.sleep_forever()

    async with nursery.open_nursery() as target:
        task = await target.start(child)
        assert task in target.child_tasks
        assert task.parent_nursery is target
        target.cancel_scope.cancel()


async def test_start_into_another_tasks_nursery() -> None:
    async def child(*, task_status: nursery.TaskStatus[str]) -> None:
        task_status.started("hi")
        await nursery.sleep_forever()

    async def starter(target: nursery.Nursery, out: list[str]) -> None:
        out.append(await target.start(child))

    out: list[str] = []
    async with nursery.open_nursery() as target:
        async with nursery.open_nursery() as helpers:
            helpers.start_soon(starter, target, out)
        # The helper nursery closed, but the child lives on in target.
        assert out == ["hi"]
        assert len(target.child_tasks) == 1
        target.cancel_scope.cancel()


async def test_task_status_ignored_makes_started_a_no_op() -> None:
    async def service(*, task_status: nursery.TaskStatus[int] = nursery.TASK_STATUS_IGNORED) -> int:
        task_status.started(1)
        return 2

    # Called directly instead of through start(), started() does nothing.
    assert await service() == 2
    nursery.TASK_STATUS_IGNORED.started()
    nursery.TASK_STATUS_IGNORED.started("any value")


async def test_an_error_before_started_keeps_its_cause_and_context() -> None:
    async def fails_to_start(*, task_status: nursery.TaskStatus[None]) -> None:
        error = ValueError("could not start")
        error.__cause__ = OSError("the reason")
        error.__context__ = KeyError("being handled")
        raise error

    async with nursery.open_nursery() as n:
        with pytest.raises(ValueError) as info:
            await n.start(fails_to_start)
    assert isinstance(info.value.__cause__, OSError)
    assert isinstance(info.value.__context__, KeyError)
