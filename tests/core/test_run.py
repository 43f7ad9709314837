"""nursery.run(): entry, results, errors, context, system tasks, statistics, Task."""

from __future__ import annotations

import contextvars
import math
import types
from collections.abc import Callable, Coroutine, Iterator
from functools import partial

import pytest

import nursery
from nursery.abc import Clock, Instrument
from nursery.lowlevel import (
    RunToken,
    RunVar,
    Task,
    add_instrument,
    current_clock,
    current_root_task,
    current_statistics,
    current_task,
    current_token,
    in_run,
    in_task,
    notify_closing,
    reschedule,
    spawn_system_task,
    wait_task_rescheduled,
)
from nursery.testing import MockClock, wait_all_tasks_blocked

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def walk_exceptions(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable through groups, causes and contexts."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        for linked in (e.__cause__, e.__context__):
            if linked is not None:
                todo.append(linked)


# ---------------------------------------------------------------- run itself


def test_run_returns_the_async_functions_result() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    assert nursery.run(add, 2, 3) == 5


def test_run_raises_the_main_tasks_exception_unwrapped() -> None:
    # The main task is not inside a user nursery, so its error comes out as is.
    async def main() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        nursery.run(main)


def test_run_raises_base_exceptions_from_the_main_task() -> None:
    async def main() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        nursery.run(main)


def test_run_can_be_called_again_after_a_run_finished() -> None:
    async def main() -> bool:
        return in_run()

    assert nursery.run(main) is True
    assert nursery.run(main) is True


async def test_nested_run_is_a_runtime_error() -> None:
    async def inner() -> None:
        pass  # pragma: no cover

    with pytest.raises(RuntimeError):
        nursery.run(inner)


def test_run_uses_the_clock_it_was_given() -> None:
    clock = MockClock()
    clock.jump(7)

    async def main() -> tuple[Clock, float]:
        return current_clock(), nursery.current_time()

    assert nursery.run(main, clock=clock) == (clock, 7)


def test_default_clock_is_a_clock() -> None:
    async def main() -> Clock:
        return current_clock()

    assert isinstance(nursery.run(main), Clock)


def test_run_accepts_a_random_seed() -> None:
    # nursery extension (not in Trio): the seed is kept in the statistics so a
    # failing interleaving can be replayed.
    async def main() -> object:
        return current_statistics().seed

    assert nursery.run(main, random_seed=1234) == 1234


def test_run_reports_a_seed_even_when_none_was_given() -> None:
    async def main() -> object:
        return current_statistics().seed

    assert isinstance(nursery.run(main), int)


def test_same_seed_gives_same_interleaving() -> None:
    # nursery extension: with the seed fixed, scheduling is reproducible.
    async def worker(name: str, log: list[tuple[str, int]]) -> None:
        for step in range(6):
            await nursery.lowlevel.checkpoint()
            log.append((name, step))

    async def main() -> list[tuple[str, int]]:
        log: list[tuple[str, int]] = []
        async with nursery.open_nursery() as n:
            for name in "abcdef":
                n.start_soon(worker, name, log)
        return log

    first = nursery.run(main, random_seed=99)
    for _ in range(5):
        assert nursery.run(main, random_seed=99) == first


# ---------------------------------------------------------------- outside a run


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(nursery.current_time, id="current_time"),
        pytest.param(nursery.current_effective_deadline, id="current_effective_deadline"),
        pytest.param(current_task, id="current_task"),
        pytest.param(current_root_task, id="current_root_task"),
        pytest.param(current_clock, id="current_clock"),
        pytest.param(current_statistics, id="current_statistics"),
        pytest.param(current_token, id="current_token"),
        pytest.param(lambda: add_instrument(Instrument()), id="add_instrument"),
        pytest.param(lambda: notify_closing(0), id="notify_closing"),
        pytest.param(lambda: RunVar[int]("x").get(), id="RunVar.get"),
        pytest.param(lambda: RunVar[int]("x").set(1), id="RunVar.set"),
        pytest.param(lambda: nursery.CancelScope().__enter__(), id="CancelScope.__enter__"),
        pytest.param(lambda: nursery.move_on_after(1).__enter__(), id="move_on_after"),
        pytest.param(lambda: nursery.fail_at(1).__enter__(), id="fail_at"),
    ],
)
def test_api_outside_a_run_is_a_runtime_error(call: Callable[[], object]) -> None:
    with pytest.raises(RuntimeError):
        call()


def test_spawn_system_task_outside_a_run_is_a_runtime_error() -> None:
    async def child() -> None:
        pass  # pragma: no cover

    with pytest.raises(RuntimeError):
        spawn_system_task(child)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: nursery.sleep(1), id="sleep"),
        pytest.param(lambda: nursery.sleep_until(1), id="sleep_until"),
    ],
)
def test_async_api_outside_a_run_is_a_runtime_error(
    make: Callable[[], Coroutine[object, None, object]],
) -> None:
    # Driving the coroutine by hand, as a foreign event loop would.
    coro = make()
    try:
        with pytest.raises(RuntimeError):
            coro.send(None)
    finally:
        coro.close()


def test_open_nursery_outside_a_run_is_a_runtime_error() -> None:
    # Trio raises AttributeError here; nursery promises RuntimeError for every
    # API used outside a run.
    async def use() -> None:
        async with nursery.open_nursery():
            pass  # pragma: no cover

    coro = use()
    try:
        with pytest.raises(RuntimeError):
            coro.send(None)
    finally:
        coro.close()


def test_in_run_and_in_task_are_false_outside_a_run() -> None:
    assert in_run() is False
    assert in_task() is False


async def test_in_run_and_in_task_are_true_in_a_task() -> None:
    assert in_run() is True
    assert in_task() is True


def test_in_run_without_a_task_during_before_run() -> None:
    # Instrument hooks like before_run run inside the run but outside any task.
    seen: list[tuple[bool, bool]] = []

    class Probe(Instrument):
        def before_run(self) -> None:
            seen.append((in_run(), in_task()))

    async def main() -> None:
        pass

    nursery.run(main, instruments=[Probe()])
    assert seen == [(True, False)]


# ---------------------------------------------------------------- contextvars


def test_main_task_sees_a_copy_of_the_callers_context() -> None:
    async def main() -> str:
        seen = var.get()
        var.set("changed inside")
        return seen

    token = var.set("from caller")
    try:
        assert nursery.run(main) == "from caller"
        # The run worked on a copy: the caller's value is untouched.
        assert var.get() == "from caller"
    finally:
        var.reset(token)


async def test_children_get_a_copy_of_the_spawners_context() -> None:
    seen: list[str] = []

    async def child() -> None:
        seen.append(var.get())
        var.set("child's own")

    var.set("parent")
    async with nursery.open_nursery() as n:
        n.start_soon(child)
        # Spawning copies the context at once: later changes are not shared.
        var.set("parent, later")
    assert seen == ["parent"]
    assert var.get() == "parent, later"


async def test_started_child_gets_a_copy_of_the_callers_context() -> None:
    async def child(*, task_status: nursery.TaskStatus[str]) -> None:
        task_status.started(var.get())

    var.set("caller of start")
    async with nursery.open_nursery() as n:
        assert await n.start(child) == "caller of start"


def test_system_tasks_do_not_inherit_the_spawners_context() -> None:
    # They get a copy of the context run() was called in instead.
    async def system_child(out: list[str]) -> None:
        out.append(var.get())

    async def main() -> list[str]:
        out: list[str] = []
        var.set("main task's value")
        spawn_system_task(system_child, out)
        await wait_all_tasks_blocked()
        return out

    assert nursery.run(main) == ["unset"]


async def test_spawn_system_task_uses_the_context_it_is_given() -> None:
    out: list[str] = []

    async def system_child() -> None:
        out.append(var.get())

    var.set("explicit context")
    spawn_system_task(system_child, context=contextvars.copy_context())
    await wait_all_tasks_blocked()
    assert out == ["explicit context"]


# ---------------------------------------------------------------- system tasks


def test_crashing_system_task_ends_the_run_with_internal_error() -> None:
    main_was_cancelled = False

    async def crash() -> None:
        raise ValueError("system task crashed")

    async def main() -> None:
        nonlocal main_was_cancelled
        spawn_system_task(crash)
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            main_was_cancelled = True
            raise

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert main_was_cancelled
    # The original error is kept for debugging.
    assert any(isinstance(e, ValueError) for e in walk_exceptions(info.value))


def test_system_tasks_are_cancelled_when_the_main_task_returns() -> None:
    sources: list[str] = []

    async def system_child() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled as exc:
            sources.append(exc.source)
            raise

    async def main() -> str:
        spawn_system_task(system_child)
        await wait_all_tasks_blocked()
        return "main done"

    assert nursery.run(main) == "main done"
    assert sources == ["shutdown"]


async def test_system_tasks_are_ki_protected() -> None:
    seen: list[bool] = []

    async def system_child() -> None:
        seen.append(nursery.lowlevel.currently_ki_protected())

    spawn_system_task(system_child)
    await wait_all_tasks_blocked()
    assert seen == [True]


async def test_system_task_is_a_descendant_of_the_root_task() -> None:
    out: list[Task] = []

    async def system_child() -> None:
        out.append(current_task())

    task = spawn_system_task(system_child, name="sys")
    await wait_all_tasks_blocked()
    assert out == [task]
    assert task.name == "sys"
    assert _ancestors(task)[-1] is current_root_task()


# ---------------------------------------------------------------- root & statistics


def _ancestors(task: Task) -> list[Task]:
    chain = [task]
    while chain[-1].parent_nursery is not None:
        chain.append(chain[-1].parent_nursery.parent_task)
    return chain


async def test_root_task_is_the_ancestor_of_every_task() -> None:
    root = current_root_task()
    assert root is not None
    assert root.parent_nursery is None
    assert root is not current_task()
    assert _ancestors(current_task())[-1] is root


async def test_statistics_count_living_and_runnable_tasks() -> None:
    before = current_statistics()
    async with nursery.open_nursery() as n:
        for _ in range(3):
            n.start_soon(nursery.sleep_forever)
        # Spawned but not started yet: they are waiting to run.
        spawned = current_statistics()
        assert spawned.tasks_living == before.tasks_living + 3
        assert spawned.tasks_runnable == before.tasks_runnable + 3
        await wait_all_tasks_blocked()
        blocked = current_statistics()
        assert blocked.tasks_living == before.tasks_living + 3
        assert blocked.tasks_runnable == before.tasks_runnable
        n.cancel_scope.cancel()
    assert current_statistics().tasks_living == before.tasks_living


async def test_statistics_seconds_to_next_deadline(mock_clock: MockClock) -> None:
    assert current_statistics().seconds_to_next_deadline == math.inf
    with nursery.move_on_after(5):
        assert current_statistics().seconds_to_next_deadline == 5
        mock_clock.jump(2)
        assert current_statistics().seconds_to_next_deadline == 3
    assert current_statistics().seconds_to_next_deadline == math.inf


async def test_statistics_run_sync_soon_queue_size() -> None:
    token = current_token()
    base = current_statistics().run_sync_soon_queue_size
    token.run_sync_soon(lambda: None)
    token.run_sync_soon(lambda: None)
    assert current_statistics().run_sync_soon_queue_size == base + 2
    await wait_all_tasks_blocked()
    assert current_statistics().run_sync_soon_queue_size == base


async def test_statistics_name_the_io_backend() -> None:
    assert isinstance(current_statistics().io_statistics.backend, str)


async def test_current_token_is_a_run_token() -> None:
    assert isinstance(current_token(), RunToken)


# ---------------------------------------------------------------- Task


async def test_task_name_defaults_to_the_functions_qualified_name() -> None:
    async def worker() -> None:
        pass

    async with nursery.open_nursery() as n:
        n.start_soon(worker)
        n.start_soon(partial(worker))
        (task, partial_task) = sorted(n.child_tasks, key=id)
    for t in (task, partial_task):
        assert "worker" in t.name
        assert isinstance(t.name, str)


async def test_task_name_can_be_given() -> None:
    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep, 0, name="napper")
        (task,) = n.child_tasks
        assert task.name == "napper"


async def test_task_name_that_is_not_a_string_is_made_one() -> None:
    async def worker() -> None:
        pass

    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep, 0, name=worker)
        (task,) = n.child_tasks
        assert isinstance(task.name, str)
        assert "worker" in task.name


async def test_task_coro_is_the_running_coroutine() -> None:
    async def worker() -> None:
        await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        n.start_soon(worker)
        (task,) = n.child_tasks
        assert isinstance(task.coro, types.CoroutineType)
        assert task.coro.cr_code is worker.__code__
        n.cancel_scope.cancel()


async def test_task_context_is_the_tasks_contextvars_context() -> None:
    tasks: list[Task] = []

    async def worker() -> None:
        var.set("worker's")
        tasks.append(current_task())

    async with nursery.open_nursery() as n:
        n.start_soon(worker)
    (task,) = tasks
    assert isinstance(task.context, contextvars.Context)
    assert task.context[var] == "worker's"
    assert current_task().context.get(var) != "worker's"


async def test_task_parent_nursery_and_child_nurseries() -> None:
    me = current_task()
    assert me.child_nurseries == []
    async with nursery.open_nursery() as outer:
        assert outer.parent_task is me
        async with nursery.open_nursery() as inner:
            # Outer nurseries come before inner ones.
            assert me.child_nurseries == [outer, inner]
            inner.start_soon(nursery.sleep, 0)
            (child,) = inner.child_tasks
            assert child.parent_nursery is inner
            assert child.eventual_parent_nursery is None
        assert me.child_nurseries == [outer]
    assert me.child_nurseries == []


async def test_eventual_parent_nursery_during_start() -> None:
    before: list[nursery.Nursery | None] = []
    after: list[nursery.Nursery | None] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        me = current_task()
        before.extend([me.parent_nursery, me.eventual_parent_nursery])
        task_status.started()
        after.extend([me.parent_nursery, me.eventual_parent_nursery])

    async with nursery.open_nursery() as target:
        await target.start(child)
    before_parent, before_eventual = before
    assert before_eventual is target
    assert before_parent is not target
    assert after == [target, None]


async def test_custom_sleep_data_is_cleared_on_reschedule() -> None:
    tasks: list[Task] = []

    async def sleeper() -> None:
        me = current_task()
        me.custom_sleep_data = "parked by me"
        tasks.append(me)
        await wait_task_rescheduled(lambda _: nursery.lowlevel.Abort.FAILED)
        tasks.append(me)

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        (task,) = tasks
        assert task.custom_sleep_data == "parked by me"
        reschedule(task)
    assert task.custom_sleep_data is None


async def test_iter_await_frames_walks_the_await_chain() -> None:
    async def middle() -> None:
        await nursery.sleep_forever()

    async def outer() -> None:
        await middle()

    async with nursery.open_nursery() as n:
        n.start_soon(outer)
        await wait_all_tasks_blocked()
        (task,) = n.child_tasks
        frames = list(task.iter_await_frames())
        names = [frame.f_code.co_name for frame, _ in frames]
        assert names[:2] == ["outer", "middle"]
        assert all(isinstance(lineno, int) for _, lineno in frames)
        n.cancel_scope.cancel()


async def test_a_worker_thread_carries_no_current_task_hint() -> None:
    # The thread runs in a copy of the task's contextvars. The task's hint (see
    # nursery._core._context) must not travel with it: were the task running at the
    # moment the thread asked, the hint alone would pass for the truth.
    from nursery import to_thread
    from nursery._core._context import TASK_HINT

    def worker() -> tuple[object, bool]:
        try:
            nursery.lowlevel.current_task()
        except RuntimeError:
            return TASK_HINT.get(), False
        return TASK_HINT.get(), True  # pragma: no cover

    me = nursery.lowlevel.current_task()
    assert TASK_HINT.get() is me  # left by that first call
    assert await to_thread.run_sync(worker) == (None, False)


async def test_the_hint_is_left_in_the_tasks_own_context_only() -> None:
    from nursery._core._context import TASK_HINT

    me = nursery.lowlevel.current_task()
    assert me.context.get(TASK_HINT) is me
    # Asked from code running in another context, nursery still answers right, and
    # leaves that context as it was.
    other = contextvars.Context()
    assert other.run(nursery.lowlevel.current_task) is me
    assert TASK_HINT not in other


def test_an_instrument_asking_for_the_task_leaves_the_callers_context_alone() -> None:
    from nursery._core._context import TASK_HINT

    seen: list[object] = []

    class Asker(nursery.abc.Instrument):
        def before_task_step(self, task: nursery.lowlevel.Task) -> None:
            seen.append(nursery.lowlevel.current_task() is task)

    async def main() -> None:
        await nursery.sleep(0)

    nursery.run(main, instruments=[Asker()])
    assert seen and all(seen)
    # The loop, and so the instrument, ran in this (the caller's) context.
    assert TASK_HINT.get() is None


async def test_a_task_in_a_context_copied_from_another_task_is_still_itself() -> None:
    # The copied context carries the spawning task's current-task hint; the new task
    # must not be taken for its spawner (nursery._core._context checks the hint).
    me = nursery.lowlevel.current_task()
    seen: list[object] = []
    done = nursery.Event()

    async def system() -> None:
        seen.append(nursery.lowlevel.current_task())
        await nursery.lowlevel.checkpoint()
        seen.append(nursery.lowlevel.current_task())
        done.set()

    task = nursery.lowlevel.spawn_system_task(system, context=contextvars.copy_context())
    await done.wait()
    assert seen == [task, task] and task is not me


async def test_finished_tasks_and_failed_nurseries_leave_no_cyclic_garbage() -> None:
    # Freed by reference counting, not left for the collector: a task that asked for
    # itself (its context holds the current-task hint), a cancelled scope, and a
    # nursery whose child failed (the error's traceback holds __aexit__'s frame).
    import gc

    async def asks_for_itself() -> None:
        nursery.lowlevel.current_task()
        await nursery.sleep(0)

    async def cancelled() -> None:
        with nursery.CancelScope() as scope:
            scope.cancel()
            await nursery.sleep_forever()

    async def fails() -> None:
        raise ValueError("boom")

    gc.collect()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(asks_for_itself)
        await cancelled()
        with pytest.raises(ExceptionGroup):
            async with nursery.open_nursery() as n:
                n.start_soon(fails)
        gc.collect()
        assert gc.garbage == []
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
