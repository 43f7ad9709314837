"""Edge cases of the kernel's public API: Cancelled itself, what counts as an async
function, RunVar, statistics, tasks, parking lots and instruments."""

from __future__ import annotations

import asyncio
import copy
import inspect
import math
import pickle
from collections.abc import AsyncGenerator, Coroutine, Generator
from typing import Any

import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import (
    ParkingLot,
    RunVar,
    Task,
    add_instrument,
    add_parking_lot_breaker,
    checkpoint,
    current_statistics,
    current_task,
    current_token,
    remove_parking_lot_breaker,
)
from nursery.testing import wait_all_tasks_blocked

# ---------------------------------------------------------------- Cancelled


async def catch_cancelled(reason: str | None = None) -> nursery.Cancelled:
    with nursery.CancelScope() as scope:
        scope.cancel(reason)
        try:
            await checkpoint()
        except nursery.Cancelled as exc:
            return exc
    raise AssertionError("not cancelled")  # pragma: no cover


async def test_cancelled_str_names_source_reason_and_task() -> None:
    exc = await catch_cancelled("enough")
    text = str(exc)
    assert text.startswith("cancelled due to explicit")
    assert "with reason 'enough'" in text
    assert f"from task {current_task()!r}" in text


async def test_cancelled_str_without_reason() -> None:
    exc = await catch_cancelled()
    assert "with reason" not in str(exc)
    assert "from task" in str(exc)


def test_cancelled_str_without_reason_or_task() -> None:
    # Cancelled from outside any task (before the run), by a deadline: neither a
    # reason given to cancel() nor a task to name.
    scope = nursery.CancelScope(deadline=-math.inf)
    seen: list[nursery.Cancelled] = []

    async def main() -> None:
        with scope:
            try:
                await checkpoint()
            except nursery.Cancelled as exc:
                seen.append(exc)

    nursery.run(main)
    (exc,) = seen
    assert exc.source == "deadline"
    assert str(exc) == "cancelled due to deadline"


async def test_cancelled_survives_pickling() -> None:
    exc = await catch_cancelled("pickled")
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is nursery.Cancelled
    assert (clone.source, clone.reason, clone.source_task) == (
        exc.source,
        exc.reason,
        exc.source_task,
    )
    assert str(clone) == str(exc)


async def test_cancelled_can_be_copied() -> None:
    exc = await catch_cancelled("copied")
    clone = copy.copy(exc)
    assert type(clone) is nursery.Cancelled
    assert clone is not exc
    assert clone.reason == "copied"


# ---------------------------------------------------------------- what start_soon() accepts


def gen_fn() -> Generator[None, None, None]:
    yield  # pragma: no cover


async def test_generator_function_is_rejected_and_its_generator_closed() -> None:
    made: list[Generator[None, None, None]] = []

    def make() -> Generator[None, None, None]:
        made.append(gen_fn())
        return made[-1]

    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError, match="returned a generator") as info:
            n.start_soon(make)  # type: ignore[arg-type]
    assert "'def' instead of 'async def'" in str(info.value)
    (gen,) = made
    assert inspect.getgeneratorstate(gen) == inspect.GEN_CLOSED


async def test_asyncio_future_is_rejected_with_a_hint_about_asyncio() -> None:
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        async with nursery.open_nursery() as n:
            with pytest.raises(TypeError, match="asyncio"):
                n.start_soon(lambda: future)  # type: ignore[arg-type, return-value]
    finally:
        loop.close()


class ForeignFuture:
    """An awaitable that claims to come from another async framework."""

    __module__ = "twisted.internet.defer"

    def __init__(self) -> None:
        self.closed = False

    def __await__(self) -> Generator[None, None, None]:
        yield  # pragma: no cover

    def close(self) -> None:
        self.closed = True


async def test_other_frameworks_awaitable_is_closed_and_rejected() -> None:
    foreign = ForeignFuture()
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError, match="another framework"):
            n.start_soon(lambda: foreign)  # type: ignore[arg-type, return-value]
    assert foreign.closed


class PlainAwaitable:
    def __await__(self) -> Generator[None, None, None]:
        yield  # pragma: no cover


async def test_plain_awaitable_is_rejected_with_advice_to_wrap_it() -> None:
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError, match="wrap it in an 'async def'") as info:
            n.start_soon(PlainAwaitable)  # type: ignore[arg-type]
    assert "PlainAwaitable" in str(info.value)


def test_run_rejects_a_sync_function_returning_a_plain_value() -> None:
    with pytest.raises(TypeError, match="returned 42"):
        nursery.run(lambda: 42)  # type: ignore[arg-type, return-value]


def test_run_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError, match="expected an async function"):
        nursery.run(42)  # type: ignore[arg-type]


class HandWrittenCoroutine(Coroutine[Any, Any, str]):
    """A Coroutine that is not a native coroutine object: it drives one."""

    def __init__(self, inner: Coroutine[Any, Any, str]) -> None:
        self._inner = inner

    def send(self, value: Any) -> Any:
        return self._inner.send(value)

    def throw(self, *args: Any) -> Any:
        return self._inner.throw(*args)

    def close(self) -> None:
        self._inner.close()

    def __await__(self) -> Generator[Any, None, str]:
        return (yield from self._inner.__await__())  # pragma: no cover


async def test_hand_written_coroutine_object_runs_as_a_task() -> None:
    results: list[str] = []

    async def body() -> str:
        await checkpoint()
        results.append("ran")
        return "done"

    tasks: list[Task] = []

    async def sleeper() -> str:
        tasks.append(current_task())
        await nursery.sleep_forever()
        return "never"  # pragma: no cover

    async with nursery.open_nursery() as n:
        n.start_soon(lambda: HandWrittenCoroutine(body()))
        n.start_soon(lambda: HandWrittenCoroutine(sleeper()))
        await wait_all_tasks_blocked()
        # The kernel cannot see inside a coroutine it does not know: no frames.
        (task,) = tasks
        assert list(task.iter_await_frames()) == []
        n.cancel_scope.cancel()
    assert results == ["ran"]


class AsyncCallable:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def test_callable_object_task_is_named_by_its_repr() -> None:
    job = AsyncCallable()
    names: list[str] = []

    async with nursery.open_nursery() as n:
        n.start_soon(job)
        (task,) = n.child_tasks
        names.append(task.name)
    assert job.calls == 1
    assert names == [repr(job)]


# ---------------------------------------------------------------- RunVar


async def test_run_var_name_and_token_var() -> None:
    var: RunVar[int] = RunVar("answer")
    assert var.name == "answer"
    token = var.set(42)
    assert token.var is var
    assert token.old_value is not None  # a marker: there was no value before
    var.reset(token)
    assert var.get(7) == 7


async def test_run_var_reset_with_something_else_is_a_type_error() -> None:
    var: RunVar[int] = RunVar("answer")
    var.set(1)
    with pytest.raises(TypeError, match="RunVarToken"):
        var.reset("not a token")  # type: ignore[arg-type]
    assert var.get() == 1


async def test_run_var_failed_reset_leaves_the_value_alone() -> None:
    first: RunVar[int] = RunVar("first")
    second: RunVar[int] = RunVar("second")
    token = first.set(1)
    second.set(2)
    with pytest.raises(ValueError, match="another RunVar"):
        second.reset(token)
    assert second.get() == 2
    first.reset(token)
    with pytest.raises(ValueError, match="already been used"):
        first.reset(token)
    with pytest.raises(LookupError):
        first.get()


def test_run_var_repr() -> None:
    assert repr(RunVar("cache")) == "<RunVar name='cache'>"


# ---------------------------------------------------------------- statistics


async def test_statistics_count_io_waiters_and_queued_callbacks() -> None:
    import socket

    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)

        async def reader() -> None:
            await nursery.lowlevel.wait_readable(a)

        async with nursery.open_nursery() as n:
            await wait_all_tasks_blocked()
            base = current_statistics()
            n.start_soon(reader)
            await wait_all_tasks_blocked()
            stats = current_statistics()
            assert stats.io_statistics.tasks_waiting_read == (
                base.io_statistics.tasks_waiting_read + 1
            )
            assert stats.io_statistics.tasks_waiting_write == (
                base.io_statistics.tasks_waiting_write
            )
            token = current_token()

            def noop() -> None:
                pass

            token.run_sync_soon(noop, idempotent=True)
            token.run_sync_soon(noop, idempotent=True)  # merged with the first
            token.run_sync_soon(noop)
            assert current_statistics().run_sync_soon_queue_size == (
                base.run_sync_soon_queue_size + 2
            )
            b.send(b"x")
        await wait_all_tasks_blocked()
        stats = current_statistics()
        assert stats.io_statistics.tasks_waiting_read == base.io_statistics.tasks_waiting_read
        assert stats.run_sync_soon_queue_size == base.run_sync_soon_queue_size
        assert stats.seed == base.seed


# ---------------------------------------------------------------- tasks


async def test_task_name_can_be_changed_and_becomes_a_string() -> None:
    task = current_task()
    old = task.name
    try:
        task.name = 1234  # type: ignore[assignment]
        assert task.name == "1234"
        assert "'1234'" in repr(task)
    finally:
        task.name = old


async def test_iter_await_frames_of_a_finished_task_is_empty() -> None:
    tasks: list[Task] = []

    async def quick() -> None:
        tasks.append(current_task())

    async with nursery.open_nursery() as n:
        n.start_soon(quick)
    assert list(tasks[0].iter_await_frames()) == []


async def test_iter_await_frames_of_a_task_that_has_not_started() -> None:
    async def later() -> None:
        await checkpoint()

    async with nursery.open_nursery() as n:
        n.start_soon(later)
        (task,) = n.child_tasks
        names = [frame.f_code.co_name for frame, _ in task.iter_await_frames()]
        assert names == ["later"]


async def test_iter_await_frames_walks_into_async_generators() -> None:
    async def numbers() -> AsyncGenerator[int, None]:
        await nursery.sleep_forever()
        yield 1  # pragma: no cover

    async def consumer() -> None:
        async for _ in numbers():
            pass  # pragma: no cover

    async with nursery.open_nursery() as n:
        n.start_soon(consumer)
        await wait_all_tasks_blocked()
        (task,) = n.child_tasks
        names = [frame.f_code.co_name for frame, _ in task.iter_await_frames()]
        n.cancel_scope.cancel()
    assert names[:3] == ["consumer", "numbers", "sleep_forever"]


# ---------------------------------------------------------------- parking lots


@pytest.mark.parametrize("count", ["2", True, None, 1j])
async def test_parking_lot_counts_must_be_numbers(count: object) -> None:
    lot = ParkingLot()
    with pytest.raises(TypeError, match="count"):
        lot.unpark(count=count)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="count"):
        lot.repark(ParkingLot(), count=count)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [-1, 1.5, -math.inf, math.nan])
async def test_parking_lot_counts_must_be_non_negative_whole_numbers(count: float) -> None:
    lot = ParkingLot()
    with pytest.raises(ValueError, match="count"):
        lot.unpark(count=count)
    with pytest.raises(ValueError, match="count"):
        lot.repark(ParkingLot(), count=count)


async def test_breaking_a_lot_twice_records_the_breaker_once() -> None:
    lot = ParkingLot()
    lot.break_lot()
    lot.break_lot()
    assert lot.broken_by == [current_task()]


async def test_removing_one_breaker_keeps_the_others() -> None:
    kept, removed = ParkingLot(), ParkingLot()
    tasks: list[Task] = []

    async def holder() -> None:
        tasks.append(current_task())
        add_parking_lot_breaker(current_task(), kept)
        add_parking_lot_breaker(current_task(), removed)
        remove_parking_lot_breaker(current_task(), removed)

    async with nursery.open_nursery() as n:
        n.start_soon(holder)
    assert kept.broken_by == tasks
    assert removed.broken_by == []


# ---------------------------------------------------------------- instruments


class Silent(Instrument):
    pass


async def noop() -> None:
    pass  # pragma: no cover


@pytest.mark.parametrize("thing", [object(), Silent])
def test_run_rejects_things_that_are_not_instruments(thing: object) -> None:
    with pytest.raises(TypeError, match="Instrument"):
        nursery.run(noop, instruments=[thing])  # type: ignore[list-item]


async def test_add_instrument_rejects_things_that_are_not_instruments() -> None:
    with pytest.raises(TypeError, match="Instrument"):
        add_instrument("instrument")  # type: ignore[arg-type]
