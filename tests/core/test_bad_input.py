"""Common mistakes get clear errors instead of hangs or silent misbehaviour."""

from __future__ import annotations

import asyncio
import inspect
import math
import types
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

import nursery
from nursery.lowlevel import checkpoint, spawn_system_task
from nursery.testing import wait_all_tasks_blocked


def sync_fn() -> None:
    pass  # pragma: no cover


async def async_fn() -> None:
    pass  # pragma: no cover


async def async_gen_fn() -> AsyncIterator[None]:
    yield  # pragma: no cover


def assert_closed(coro: Coroutine[Any, Any, Any]) -> None:
    # A closed coroutine will not warn "coroutine ... was never awaited".
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


# ---------------------------------------------------------------- not an async function


def test_run_with_a_sync_function_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        nursery.run(sync_fn)  # type: ignore[arg-type]


def test_run_with_a_coroutine_object_is_a_type_error_and_closes_it() -> None:
    coro = async_fn()
    with pytest.raises(TypeError):
        nursery.run(coro)  # type: ignore[arg-type]
    assert_closed(coro)


def test_run_error_message_shows_the_likely_mistake() -> None:
    # nursery's wording: the message asks "did you write ...?"
    with pytest.raises(TypeError, match="did you write"):
        nursery.run(sync_fn)  # type: ignore[arg-type]
    coro = async_fn()
    with pytest.raises(TypeError, match="did you write"):
        nursery.run(coro)  # type: ignore[arg-type]
    assert_closed(coro)


async def test_start_soon_with_a_sync_function_is_a_type_error() -> None:
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            n.start_soon(sync_fn)  # type: ignore[arg-type]


async def test_start_soon_with_a_coroutine_object_is_a_type_error_and_closes_it() -> None:
    coro = async_fn()
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            n.start_soon(coro)  # type: ignore[arg-type]
    assert_closed(coro)


async def test_start_soon_error_message_shows_the_likely_mistake() -> None:
    coro = async_fn()
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError, match="did you write"):
            n.start_soon(sync_fn)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="did you write"):
            n.start_soon(coro)  # type: ignore[arg-type]
        other = async_fn()
        with pytest.raises(TypeError, match="did you write"):
            await n.start(other)  # type: ignore[arg-type]
    assert_closed(coro)
    assert_closed(other)


async def test_start_with_a_coroutine_object_is_a_type_error_and_closes_it() -> None:
    coro = async_fn()
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            await n.start(coro)  # type: ignore[arg-type]
    assert_closed(coro)


async def test_start_with_a_sync_function_is_a_type_error() -> None:
    def sync_with_status(*, task_status: object) -> None:
        pass  # pragma: no cover

    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            await n.start(sync_with_status)  # type: ignore[arg-type]
        # The failed start() did not disturb the nursery.
        assert not n.cancel_scope.cancel_called


async def test_spawn_system_task_with_a_coroutine_object_is_a_type_error() -> None:
    coro = async_fn()
    with pytest.raises(TypeError):
        spawn_system_task(coro)  # type: ignore[arg-type]
    assert_closed(coro)


async def test_start_soon_with_an_async_generator_function_is_a_type_error() -> None:
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            n.start_soon(async_gen_fn)  # type: ignore[arg-type]


async def test_start_soon_with_a_non_callable_is_a_type_error() -> None:
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            n.start_soon(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- foreign awaitables


async def test_bare_yield_is_a_type_error_mentioning_asyncio() -> None:
    @types.coroutine
    def bare_yield() -> types.GeneratorType:  # type: ignore[type-arg]
        yield "a message nursery does not understand"

    with pytest.raises(TypeError, match="asyncio"):
        await bare_yield()
    await checkpoint()  # the task is still in working order


async def test_awaiting_an_asyncio_future_is_a_type_error_mentioning_asyncio() -> None:
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        with pytest.raises(TypeError, match="asyncio"):
            await future
    finally:
        loop.close()


# ---------------------------------------------------------------- cancel scope misuse


async def test_entering_a_cancel_scope_twice_is_a_runtime_error() -> None:
    scope = nursery.CancelScope()
    with scope:
        pass
    with pytest.raises(RuntimeError):
        with scope:
            pass  # pragma: no cover


async def test_entering_an_active_cancel_scope_again_is_a_runtime_error() -> None:
    scope = nursery.CancelScope()
    with scope:
        with pytest.raises(RuntimeError):
            with scope:
                pass  # pragma: no cover


async def test_exiting_cancel_scopes_out_of_order_is_a_runtime_error() -> None:
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError):
        outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)


async def test_exiting_a_scope_from_an_unrelated_task_is_a_runtime_error() -> None:
    scope = nursery.CancelScope()
    errors: list[BaseException] = []

    async def exit_elsewhere() -> None:
        try:
            scope.__exit__(None, None, None)
        except RuntimeError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        with scope:
            # n's children run outside the scope: it is not theirs to exit.
            n.start_soon(exit_elsewhere)
            await wait_all_tasks_blocked()
    assert len(errors) == 1


# ---------------------------------------------------------------- start()/started() misuse


async def test_calling_started_twice_is_a_runtime_error() -> None:
    errors: list[BaseException] = []

    async def child(*, task_status: nursery.TaskStatus[int]) -> None:
        task_status.started(1)
        try:
            task_status.started(2)
        except RuntimeError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        assert await n.start(child) == 1
    assert len(errors) == 1


async def test_start_on_a_function_without_task_status_is_a_type_error() -> None:
    async with nursery.open_nursery() as n:
        with pytest.raises(TypeError):
            await n.start(async_fn)


# ---------------------------------------------------------------- bad durations


@pytest.mark.parametrize("value", [-1, -math.inf, math.nan], ids=["negative", "-inf", "nan"])
@pytest.mark.parametrize(
    "make",
    [nursery.move_on_after, nursery.fail_after],
    ids=["move_on_after", "fail_after"],
)
async def test_relative_timeouts_reject_negative_and_nan(
    make: Callable[[float], object], value: float
) -> None:
    with pytest.raises(ValueError):
        with make(value):  # type: ignore[attr-defined]
            pass  # pragma: no cover


@pytest.mark.parametrize(
    "make", [nursery.move_on_at, nursery.fail_at], ids=["move_on_at", "fail_at"]
)
async def test_absolute_timeouts_reject_nan(make: Callable[[float], object]) -> None:
    with pytest.raises(ValueError):
        with make(math.nan):  # type: ignore[attr-defined]
            pass  # pragma: no cover


@pytest.mark.parametrize("value", [-1, math.nan], ids=["negative", "nan"])
async def test_sleep_rejects_negative_and_nan(value: float) -> None:
    with pytest.raises(ValueError):
        await nursery.sleep(value)


async def test_sleep_until_rejects_nan() -> None:
    with pytest.raises(ValueError):
        await nursery.sleep_until(math.nan)


def test_cancel_scope_rejects_nan_deadline() -> None:
    with pytest.raises(ValueError):
        nursery.CancelScope(deadline=math.nan)


@pytest.mark.parametrize("value", [-1, math.nan], ids=["negative", "nan"])
def test_cancel_scope_rejects_bad_relative_deadline(value: float) -> None:
    with pytest.raises(ValueError):
        nursery.CancelScope(relative_deadline=value)


async def test_setting_bad_deadlines_is_a_value_error() -> None:
    scope = nursery.CancelScope()
    with pytest.raises(ValueError):
        scope.deadline = math.nan
    with pytest.raises(ValueError):
        scope.relative_deadline = -1
    with pytest.raises(ValueError):
        scope.relative_deadline = math.nan
    # The failed assignments changed nothing.
    assert scope.deadline == math.inf
