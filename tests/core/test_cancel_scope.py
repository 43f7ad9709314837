"""CancelScope: cancel(), deadlines, shielding, Cancelled and its sources."""

from __future__ import annotations

import math

import pytest

import nursery
from nursery.lowlevel import checkpoint, current_task
from nursery.testing import MockClock, wait_all_tasks_blocked

# ---------------------------------------------------------------- cancel()


async def test_cancel_raises_cancelled_at_the_next_checkpoint() -> None:
    reached: list[str] = []
    with nursery.CancelScope() as scope:
        scope.cancel()
        reached.append("after cancel")  # synchronous code is not interrupted
        await checkpoint()
        reached.append("after checkpoint")  # pragma: no cover
    assert reached == ["after cancel"]
    assert scope.cancel_called
    assert scope.cancelled_caught


async def test_enter_returns_the_scope() -> None:
    scope = nursery.CancelScope()
    with scope as entered:
        assert entered is scope


async def test_cancellation_is_level_triggered() -> None:
    # Every checkpoint inside a cancelled scope raises, not just the first.
    caught = 0
    with nursery.CancelScope() as scope:
        scope.cancel()
        for _ in range(3):
            try:
                await checkpoint()
            except nursery.Cancelled:
                caught += 1
    assert caught == 3
    assert not scope.cancelled_caught  # every Cancelled was swallowed inside


async def test_cancel_is_idempotent_and_keeps_the_first_reason() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel(reason="first")
        scope.cancel(reason="second")
        with pytest.raises(nursery.Cancelled) as info:
            await checkpoint()
    assert info.value.reason == "first"


async def test_cancel_before_entering_takes_effect_inside() -> None:
    scope = nursery.CancelScope()
    scope.cancel()
    assert scope.cancel_called
    with scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught


async def test_cancel_after_the_last_checkpoint_is_not_caught() -> None:
    with nursery.CancelScope() as scope:
        await checkpoint()
        scope.cancel()
    assert scope.cancel_called
    assert not scope.cancelled_caught


async def test_cancel_from_another_task_wakes_a_blocked_task() -> None:
    scope = nursery.CancelScope()

    async def sleeper() -> None:
        with scope:
            await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        scope.cancel()
    assert scope.cancelled_caught


async def test_cancelled_is_a_base_exception_not_an_exception() -> None:
    assert issubclass(nursery.Cancelled, BaseException)
    assert not issubclass(nursery.Cancelled, Exception)
    with nursery.CancelScope() as scope:
        scope.cancel()
        try:
            await checkpoint()
        except Exception:  # pragma: no cover - must not catch Cancelled
            pytest.fail("except Exception caught Cancelled")
    assert scope.cancelled_caught


def test_cancelled_cannot_be_constructed_by_users() -> None:
    with pytest.raises(TypeError):
        nursery.Cancelled()


# ---------------------------------------------------------------- nesting


async def test_outer_cancel_passes_through_inner_scope() -> None:
    with nursery.CancelScope() as outer:
        with nursery.CancelScope() as inner:
            outer.cancel()
            await checkpoint()
    assert outer.cancelled_caught
    assert not inner.cancelled_caught
    assert not inner.cancel_called


async def test_inner_cancel_does_not_affect_outer_scope() -> None:
    with nursery.CancelScope() as outer:
        with nursery.CancelScope() as inner:
            inner.cancel()
            await checkpoint()
        await checkpoint()  # the outer scope is still usable
    assert inner.cancelled_caught
    assert not outer.cancelled_caught


async def test_cancelled_is_stripped_from_groups_by_the_catching_scope() -> None:
    async def cancelled_child() -> None:
        await nursery.sleep_forever()

    async def failing_child() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            raise ValueError("cleanup failed") from None

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                n.start_soon(cancelled_child)
                n.start_soon(failing_child)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught
    # Only the real error is left once the scope took its Cancelleds out.
    leaves: list[BaseException] = []
    todo: list[BaseException] = [info.value]
    while todo:
        exc = todo.pop()
        if isinstance(exc, BaseExceptionGroup):
            todo.extend(exc.exceptions)
        else:
            leaves.append(exc)
    assert [type(e) for e in leaves] == [ValueError]


async def test_group_of_only_cancelled_is_swallowed_entirely() -> None:
    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            for _ in range(3):
                n.start_soon(nursery.sleep_forever)
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught


# ---------------------------------------------------------------- shield


async def test_shield_blocks_outer_cancellation() -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with nursery.CancelScope(shield=True) as shielded:
            await checkpoint()  # not cancelled
            assert nursery.current_effective_deadline() == math.inf
        assert not shielded.cancelled_caught
        await checkpoint()
    assert outer.cancelled_caught


async def test_shielded_scope_can_still_cancel_itself() -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with nursery.CancelScope(shield=True) as shielded:
            shielded.cancel()
            await checkpoint()
    assert shielded.cancelled_caught
    assert outer.cancel_called


async def test_turning_shield_off_exposes_the_cancellation_at_once() -> None:
    with nursery.CancelScope() as outer:
        with nursery.CancelScope(shield=True) as shielded:
            outer.cancel()
            await checkpoint()
            shielded.shield = False
            assert not shielded.shield
            await checkpoint()
            pytest.fail("not cancelled after unshielding")  # pragma: no cover
    assert outer.cancelled_caught


async def test_shielding_a_blocked_task_after_cancel_keeps_it_asleep(
    autojump_clock: MockClock,
) -> None:
    # Setting shield=True takes effect at once, before the task next wakes.
    outer = nursery.CancelScope()
    shielded = nursery.CancelScope()
    log: list[str] = []

    async def sleeper() -> None:
        with outer, shielded:
            await nursery.sleep(10)
            log.append("slept the full time")

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        shielded.shield = True
        outer.cancel()
    assert log == ["slept the full time"]
    assert nursery.current_time() == 10


# ---------------------------------------------------------------- deadlines


async def test_deadline_cancels_the_scope(autojump_clock: MockClock) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 5) as scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught
    assert nursery.current_time() == 5


async def test_deadline_in_the_past_cancels_on_entry(mock_clock: MockClock) -> None:
    mock_clock.jump(10)
    with nursery.CancelScope(deadline=3) as scope:
        assert scope.cancel_called
        await checkpoint()
    assert scope.cancelled_caught


async def test_deadline_defaults_to_infinity() -> None:
    scope = nursery.CancelScope()
    assert scope.deadline == math.inf
    assert scope.shield is False
    assert scope.cancel_called is False
    assert scope.cancelled_caught is False


async def test_moving_a_deadline_earlier_wakes_the_sleeper(autojump_clock: MockClock) -> None:
    scope = nursery.CancelScope()

    async def sleeper() -> None:
        with scope:
            await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        scope.deadline = nursery.current_time() + 2
    assert scope.cancelled_caught
    assert nursery.current_time() == 2


async def test_moving_a_deadline_later_extends_the_sleep(autojump_clock: MockClock) -> None:
    scope = nursery.CancelScope(deadline=2)
    done: list[float] = []

    async def sleeper() -> None:
        with scope:
            await nursery.sleep(5)
            done.append(nursery.current_time())

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await nursery.sleep(1)
        scope.deadline = 10
    assert done == [5]
    assert not scope.cancelled_caught


async def test_deadline_can_be_set_before_entering(autojump_clock: MockClock) -> None:
    scope = nursery.CancelScope()
    scope.deadline = 4
    with scope:
        await nursery.sleep_forever()
    assert nursery.current_time() == 4


async def test_relative_deadline_counts_from_entry(mock_clock: MockClock) -> None:
    scope = nursery.CancelScope(relative_deadline=5)
    assert scope.relative_deadline == 5
    assert scope.is_relative is True
    with pytest.raises(RuntimeError):
        scope.deadline  # no absolute deadline until entered
    mock_clock.jump(3)
    with scope:
        assert scope.deadline == 8
        assert scope.relative_deadline == 5
        assert scope.is_relative is None
        mock_clock.jump(1)
        assert scope.relative_deadline == 4


async def test_setting_relative_deadline_inside_moves_the_deadline(
    mock_clock: MockClock,
) -> None:
    mock_clock.jump(10)
    with nursery.CancelScope() as scope:
        scope.relative_deadline = 2
        assert scope.deadline == 12


async def test_absolute_scope_has_no_relative_deadline_before_entry() -> None:
    scope = nursery.CancelScope(deadline=5)
    assert scope.is_relative is False
    with pytest.raises(RuntimeError):
        scope.relative_deadline


def test_deadline_and_relative_deadline_together_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        nursery.CancelScope(deadline=1, relative_deadline=1)


async def test_deadline_expired_cancels_with_source_deadline(autojump_clock: MockClock) -> None:
    with nursery.CancelScope(deadline=1):
        with pytest.raises(nursery.Cancelled) as info:
            await nursery.sleep_forever()
    assert info.value.source == "deadline"


# ---------------------------------------------------------------- Cancelled's fields


async def test_explicit_cancel_records_reason_and_task() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel(reason="user asked")
        with pytest.raises(nursery.Cancelled) as info:
            await checkpoint()
    exc = info.value
    assert exc.source == "explicit"
    assert exc.reason == "user asked"
    assert exc.source_task == repr(current_task())


async def test_explicit_cancel_without_reason() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled) as info:
            await checkpoint()
    assert info.value.source == "explicit"
    assert info.value.reason is None


def test_cancel_outside_a_task_has_no_source_task() -> None:
    scope = nursery.CancelScope()
    scope.cancel(reason="before the run")
    seen: list[nursery.Cancelled] = []

    async def main() -> None:
        with scope:
            try:
                await checkpoint()
            except nursery.Cancelled as exc:
                seen.append(exc)
                raise

    nursery.run(main)
    (exc,) = seen
    assert exc.source == "explicit"
    assert exc.reason == "before the run"
    assert exc.source_task is None


async def test_cancel_from_another_task_names_that_task() -> None:
    scope = nursery.CancelScope()
    seen: list[nursery.Cancelled] = []

    async def sleeper() -> None:
        with scope:
            try:
                await nursery.sleep_forever()
            except nursery.Cancelled as exc:
                seen.append(exc)
                raise

    async def canceller() -> None:
        await wait_all_tasks_blocked()
        canceller_task.append(current_task())
        scope.cancel()

    canceller_task: list[object] = []
    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        n.start_soon(canceller)
    assert seen[0].source_task == repr(canceller_task[0])


async def test_sibling_failure_cancels_with_source_nursery() -> None:
    seen: list[nursery.Cancelled] = []
    failing_task: list[object] = []

    async def sleeper() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled as exc:
            seen.append(exc)
            raise

    async def failing() -> None:
        await wait_all_tasks_blocked()
        failing_task.append(current_task())
        raise ValueError("x")

    with pytest.raises(ExceptionGroup):
        async with nursery.open_nursery() as n:
            n.start_soon(sleeper)
            n.start_soon(failing)
    (exc,) = seen
    assert exc.source == "nursery"
    assert exc.source_task == repr(failing_task[0])
