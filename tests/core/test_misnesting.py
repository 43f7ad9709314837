"""Cancel scopes exited out of order, twice, from the wrong task, or never.

Every one of these is a bug in the user's code. The kernel must say so with a
``RuntimeError`` at the point of the mistake, never lose an exception that was
already on its way out, and leave the run in a state where it can still finish.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

import nursery
from nursery.lowlevel import checkpoint, current_task
from nursery.testing import wait_all_tasks_blocked


def leaves(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside ``exc``, depth first."""
    if isinstance(exc, BaseExceptionGroup):
        found: list[BaseException] = []
        for child in exc.exceptions:
            found.extend(leaves(child))
        return found
    return [exc]


# ---------------------------------------------------------------- exiting the outer scope first


async def test_exiting_the_outer_scope_first_names_both_scopes() -> None:
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError, match="stack corrupted") as info:
        outer.__exit__(None, None, None)
    message = str(info.value)
    assert repr(outer)[:30] in message
    assert "still open" in message
    assert f"{id(inner):#x}" in message
    # The inner scope's own exit is a quiet clean-up: the error was already raised.
    inner.__exit__(None, None, None)


async def test_task_recovers_after_an_outer_scope_was_exited_first() -> None:
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError):
        outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)
    # Both scopes are gone: checkpoints are not cancelled, and new scopes work.
    await checkpoint()
    with nursery.CancelScope() as fresh:
        fresh.cancel()
        await checkpoint()
    assert fresh.cancelled_caught
    assert nursery.current_effective_deadline() == float("inf")


async def test_misnesting_error_keeps_the_exception_in_flight_as_context() -> None:
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    outer.__enter__()
    inner.__enter__()
    in_flight = KeyError("was already propagating")
    with pytest.raises(RuntimeError) as info:
        outer.__exit__(KeyError, in_flight, None)
    assert info.value.__context__ is in_flight
    inner.__exit__(None, None, None)


async def test_code_left_inside_an_abandoned_scope_unwinds() -> None:
    # A child task runs inside a nursery that was opened inside the inner scope; when
    # the outer scope is exited first, that child must not be left running forever.
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    cancelled: list[str] = []

    async def child() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            cancelled.append("child")
            raise

    outer.__enter__()
    with inner:
        async with nursery.open_nursery() as n:
            n.start_soon(child)
            await wait_all_tasks_blocked()
            with pytest.raises(RuntimeError, match="stack corrupted"):
                outer.__exit__(None, None, None)
    assert cancelled == ["child"]


async def test_async_generator_yielding_inside_a_scope_is_caught_as_misnesting() -> None:
    async def gen() -> AsyncGenerator[None, None]:
        with nursery.CancelScope():
            yield

    agen = gen()
    with pytest.raises(RuntimeError, match="stack corrupted"):
        with nursery.CancelScope():
            await agen.asend(None)
    # Closing the generator exits its (abandoned) scope without a second error.
    await agen.aclose()
    await checkpoint()


# ---------------------------------------------------------------- exiting an inactive scope


async def test_exiting_a_scope_twice_is_a_runtime_error() -> None:
    scope = nursery.CancelScope()
    with scope:
        pass
    with pytest.raises(RuntimeError, match="not active"):
        scope.__exit__(None, None, None)


async def test_exiting_a_scope_that_was_never_entered_is_a_runtime_error() -> None:
    scope = nursery.CancelScope()
    with pytest.raises(RuntimeError, match="not active"):
        scope.__exit__(None, None, None)
    # The failed exit did not mark it as used: it can still be entered once.
    with scope:
        await checkpoint()


async def test_second_exit_keeps_the_exception_in_flight_as_context() -> None:
    scope = nursery.CancelScope()
    with scope:
        pass
    in_flight = ValueError("on its way out")
    with pytest.raises(RuntimeError) as info:
        scope.__exit__(ValueError, in_flight, None)
    assert info.value.__context__ is in_flight


# ---------------------------------------------------------------- exiting from another task


async def test_exit_from_an_unrelated_task_changes_nothing() -> None:
    scope = nursery.CancelScope()
    errors: list[RuntimeError] = []

    async def intruder() -> None:
        try:
            scope.__exit__(None, None, None)
        except RuntimeError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        with scope:
            n.start_soon(intruder)
            await wait_all_tasks_blocked()
            (error,) = errors
            assert "not inside it" in str(error)
            assert "intruder" in str(error)
            # The scope is still active and still belongs to this task.
            assert "active" in repr(scope)
            scope.cancel()
            await checkpoint()
        assert scope.cancelled_caught


async def test_exit_from_an_unrelated_task_keeps_the_exception_in_flight() -> None:
    scope = nursery.CancelScope()
    contexts: list[BaseException | None] = []
    in_flight = OSError("was propagating in the intruder")

    async def intruder() -> None:
        try:
            scope.__exit__(OSError, in_flight, None)
        except RuntimeError as exc:
            contexts.append(exc.__context__)

    async with nursery.open_nursery() as n:
        with scope:
            n.start_soon(intruder)
            await wait_all_tasks_blocked()
    assert contexts == [in_flight]


# ---------------------------------------------------------------- a task exiting inside a scope


async def test_task_exiting_with_a_scope_open_is_a_runtime_error() -> None:
    left_open = nursery.CancelScope()

    async def forgetful() -> None:
        left_open.__enter__()

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(forgetful)
    (error,) = leaves(info.value)
    assert isinstance(error, RuntimeError)
    assert "forgetful" in str(error)
    assert f"{id(left_open):#x}" in str(error)


async def test_task_exiting_with_several_scopes_open_is_one_runtime_error() -> None:
    scopes = [nursery.CancelScope() for _ in range(3)]

    async def forgetful() -> None:
        for scope in scopes:
            scope.__enter__()
        await checkpoint()

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(forgetful)
    (error,) = leaves(info.value)
    assert isinstance(error, RuntimeError)
    # The innermost scope is the one reported.
    assert f"{id(scopes[-1]):#x}" in str(error)
    # The abandoned scopes no longer reach anyone: cancelling them is harmless, and
    # the run goes on normally.
    for scope in scopes:
        scope.cancel()
    await checkpoint()


async def test_task_exiting_inside_a_generators_scope_is_a_runtime_error() -> None:
    kept: list[AsyncGenerator[None, None]] = []
    closed: list[str] = []

    async def gen() -> AsyncGenerator[None, None]:
        try:
            with nursery.CancelScope():
                yield
        finally:
            closed.append("gen")

    async def leaves_generator_suspended() -> None:
        agen = gen()
        kept.append(agen)
        await agen.asend(None)

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(leaves_generator_suspended)
    assert [type(e) for e in leaves(info.value)] == [RuntimeError]
    # The generator can still be closed afterwards, by another task, without a
    # second misnesting error.
    await kept[0].aclose()
    assert closed == ["gen"]


async def test_sibling_tasks_are_not_disturbed_by_a_task_that_left_a_scope_open() -> None:
    finished: list[str] = []

    async def forgetful() -> None:
        nursery.CancelScope().__enter__()

    async def bystander() -> None:
        with nursery.CancelScope(shield=True):
            await wait_all_tasks_blocked()
        finished.append("bystander")

    with pytest.raises(ExceptionGroup):
        async with nursery.open_nursery() as n:
            n.start_soon(bystander)
            n.start_soon(forgetful)
    assert finished == ["bystander"]


async def test_task_exiting_with_a_scope_open_keeps_its_own_exception() -> None:
    original = ValueError("the task's own failure")

    async def forgetful() -> None:
        nursery.CancelScope().__enter__()
        raise original

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(forgetful)
    (error,) = leaves(info.value)
    assert isinstance(error, RuntimeError)
    assert error.__context__ is original


async def test_children_of_a_nursery_abandoned_by_its_task_are_cancelled() -> None:
    abandoned: list[nursery.Nursery] = []
    child_cancelled: list[bool] = []

    async def child() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            child_cancelled.append(True)
            raise

    async def opens_and_leaves() -> None:
        inner = await nursery.open_nursery().__aenter__()
        abandoned.append(inner)
        inner.start_soon(child)
        await wait_all_tasks_blocked()

    try:
        with pytest.raises(ExceptionGroup) as info:
            async with nursery.open_nursery() as n:
                n.start_soon(opens_and_leaves)
        assert [type(e) for e in leaves(info.value)] == [RuntimeError]
        await wait_all_tasks_blocked()
        assert child_cancelled == [True]
    finally:
        # Whatever the outcome, do not leave the child running: the run would hang.
        for leftover in abandoned:
            leftover.cancel_scope.cancel()


async def test_task_identity_in_misnesting_message() -> None:
    # The message names the task that made the mistake, so it can be found.
    outer = nursery.CancelScope()
    inner = nursery.CancelScope()
    outer.__enter__()
    inner.__enter__()
    with pytest.raises(RuntimeError) as info:
        outer.__exit__(None, None, None)
    inner.__exit__(None, None, None)
    assert repr(current_task()) in str(info.value)


# ---------------------------------------------------------------- nurseries exited by another task


async def test_a_nursery_handed_to_another_task_through_an_exit_stack_is_an_error_not_a_hang() -> (
    None
):
    # enter_async_context runs in a child task, which returns with the nursery of the
    # context manager still open; the exit stack then exits it from the parent task.
    @asynccontextmanager
    async def opens_a_nursery() -> AsyncGenerator[None, None]:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep_forever)
            yield

    with pytest.raises(RuntimeError, match="Nursery stack corrupted") as info:
        async with AsyncExitStack() as stack, nursery.open_nursery() as n:
            n.start_soon(stack.enter_async_context, opens_a_nursery())
    assert "was exited in" in str(info.value)
    # The child that exited with the nursery open was reported too.
    assert isinstance(info.value.__context__, BaseExceptionGroup)
    assert any("Nursery stack corrupted" in str(e) for e in leaves(info.value.__context__))


async def test_a_task_that_exits_with_a_nursery_open_says_nursery_stack_corrupted() -> None:
    async def leaves_a_nursery_open() -> None:
        await nursery.open_nursery().__aenter__()

    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="^Nursery stack corrupted")):
        async with nursery.open_nursery() as n:
            n.start_soon(leaves_a_nursery_open)
