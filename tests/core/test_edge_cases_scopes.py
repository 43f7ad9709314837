"""Edge cases of cancel scopes, deadlines, sleeping, wait_all_tasks_blocked and the
mock clock."""

from __future__ import annotations

import math

import pytest

import nursery
from nursery.abc import Clock, Instrument
from nursery.lowlevel import (
    ParkingLot,
    Task,
    checkpoint,
    current_statistics,
    current_task,
    current_token,
    reschedule,
)
from nursery.testing import MockClock, wait_all_tasks_blocked

# ---------------------------------------------------------------- CancelScope


async def test_cancel_scope_repr_follows_its_life(mock_clock: MockClock) -> None:
    scope = nursery.CancelScope()
    assert "unbound" in repr(scope)
    with scope:
        assert "active" in repr(scope)
        assert "cancelled" not in repr(scope)
        scope.deadline = nursery.current_time() + 12
        assert f"deadline={nursery.current_time() + 12:.3f}" in repr(scope)
        scope.cancel()
        assert "active, cancelled" in repr(scope)
    assert "exited, cancelled" in repr(scope)
    assert f"{id(scope):#x}" in repr(scope)


async def test_cancel_called_notices_a_passed_deadline_before_the_loop_does(
    mock_clock: MockClock,
) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 1) as scope:
        mock_clock.jump(2)
        # No checkpoint yet: the loop has not fired the deadline, the property does.
        assert scope.cancel_called
        with pytest.raises(nursery.Cancelled) as info:
            await checkpoint()
        assert info.value.source == "deadline"
        raise info.value
    assert scope.cancelled_caught


async def test_cancel_called_of_an_unentered_scope_with_a_past_deadline() -> None:
    scope = nursery.CancelScope(deadline=nursery.current_time() - 1)
    assert scope.cancel_called


async def test_cancel_called_of_an_exited_scope_does_not_change(mock_clock: MockClock) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 1) as scope:
        pass
    mock_clock.jump(5)
    assert not scope.cancel_called


def test_cancel_called_outside_a_run_does_not_consult_a_clock() -> None:
    # With no run there is no clock to compare the deadline with.
    scope = nursery.CancelScope(deadline=-1e300)
    assert not scope.cancel_called


async def test_moving_the_deadline_into_the_past_cancels_at_once(mock_clock: MockClock) -> None:
    with nursery.CancelScope() as scope:
        scope.deadline = nursery.current_time() - 1
        assert scope.cancel_called
        await checkpoint()
    assert scope.cancelled_caught


async def test_removing_a_deadline_drops_it_from_the_schedule(mock_clock: MockClock) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 5) as scope:
        assert current_statistics().seconds_to_next_deadline == 5
        scope.deadline = math.inf
        assert current_statistics().seconds_to_next_deadline == math.inf
        mock_clock.jump(10)
        await checkpoint()
    assert not scope.cancel_called


async def test_cancel_drops_the_deadline_from_the_schedule(mock_clock: MockClock) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 5) as scope:
        scope.cancel()
        assert current_statistics().seconds_to_next_deadline == math.inf
        with pytest.raises(nursery.Cancelled) as info:
            await checkpoint()
        assert info.value.source == "explicit"
        raise info.value


async def test_deadline_of_an_unentered_relative_scope_is_a_runtime_error() -> None:
    scope = nursery.CancelScope(relative_deadline=5)
    with pytest.raises(RuntimeError, match="relative"):
        scope.deadline  # noqa: B018
    with pytest.raises(RuntimeError, match="relative"):
        scope.deadline = 10
    assert scope.relative_deadline == 5
    assert scope.is_relative is True


async def test_relative_deadline_of_an_unentered_absolute_scope_is_a_runtime_error() -> None:
    scope = nursery.CancelScope(deadline=nursery.current_time() + 5)
    with pytest.raises(RuntimeError, match="absolute"):
        scope.relative_deadline  # noqa: B018
    with pytest.raises(RuntimeError, match="absolute"):
        scope.relative_deadline = 3
    assert scope.is_relative is False


async def test_relative_deadline_can_be_changed_before_entering(mock_clock: MockClock) -> None:
    scope = nursery.CancelScope(relative_deadline=100)
    scope.relative_deadline = 2
    assert scope.relative_deadline == 2
    mock_clock.jump(50)  # relative: counted from entry, not from creation
    start = nursery.current_time()
    with scope:
        assert scope.is_relative is None
        assert scope.deadline == start + 2
        assert scope.relative_deadline == 2


async def test_scope_without_any_deadline_reports_infinite_relative_deadline() -> None:
    scope = nursery.CancelScope()
    assert scope.relative_deadline == math.inf
    assert scope.is_relative is False
    scope.relative_deadline = 4
    assert scope.is_relative is True


@pytest.mark.parametrize("value", [1, 0, None, "yes"])
async def test_shield_must_be_a_bool(value: object) -> None:
    scope = nursery.CancelScope()
    with pytest.raises(TypeError, match="bool"):
        scope.shield = value  # type: ignore[assignment]
    assert scope.shield is False


async def test_shield_set_before_entering_takes_effect_inside() -> None:
    scope = nursery.CancelScope()
    scope.shield = True
    with nursery.CancelScope() as outer:
        outer.cancel()
        with scope:
            await checkpoint()  # shielded: no Cancelled
        assert not scope.cancelled_caught
        await checkpoint()
    assert outer.cancelled_caught


async def test_shielding_after_an_outer_cancel_stops_the_cancellation_inside() -> None:
    with nursery.CancelScope() as outer:
        with nursery.CancelScope() as middle:
            with nursery.CancelScope() as inner:
                outer.cancel()
                with pytest.raises(nursery.Cancelled):
                    await checkpoint()
                # Shielding the middle scope hides the outer cancellation again, for
                # every scope inside it too.
                middle.shield = True
                await checkpoint()
                assert nursery.current_effective_deadline() == math.inf
                middle.shield = False
                with pytest.raises(nursery.Cancelled):
                    await checkpoint()
            assert not inner.cancelled_caught
        assert not middle.cancelled_caught
        with pytest.raises(nursery.Cancelled):
            await checkpoint()


async def test_shielding_reaches_child_tasks_of_nurseries_inside() -> None:
    gate = ParkingLot()
    results: list[str] = []

    async def child() -> None:
        await gate.park()  # woken by unpark, not by the (hidden) cancellation
        await checkpoint()
        results.append("child finished")

    with nursery.CancelScope() as outer:
        with nursery.CancelScope() as middle:
            middle.shield = True
            async with nursery.open_nursery() as n:
                n.start_soon(child)
                await wait_all_tasks_blocked()
                outer.cancel()
                await wait_all_tasks_blocked()
                assert len(gate) == 1  # still parked: the shield hides the cancel
                gate.unpark_all()
    assert results == ["child finished"]
    assert not outer.cancelled_caught


# ---------------------------------------------------------------- deadlines


async def test_deadline_moved_many_times_fires_only_at_its_last_value(
    autojump_clock: MockClock,
) -> None:
    start = nursery.current_time()
    with nursery.CancelScope() as scope:
        for step in range(500):
            scope.deadline = start + 1000 - step
        assert current_statistics().seconds_to_next_deadline == 501
        await nursery.sleep_forever()
    assert scope.cancelled_caught
    assert nursery.current_time() == start + 501


async def test_many_scopes_moving_deadlines_later_fire_in_order(
    autojump_clock: MockClock,
) -> None:
    start = nursery.current_time()
    fired: list[tuple[int, float]] = []

    async def waiter(index: int) -> None:
        with nursery.CancelScope() as scope:
            for extra in range(100):
                scope.deadline = start + 1 + index + extra
            await nursery.sleep_forever()
        fired.append((index, nursery.current_time() - start))

    async with nursery.open_nursery() as n:
        for index in range(5):
            n.start_soon(waiter, index)
    assert sorted(fired) == [(index, index + 100) for index in range(5)]


async def test_deadline_moved_later_does_not_fire_at_its_old_value(mock_clock: MockClock) -> None:
    start = nursery.current_time()
    with nursery.CancelScope(deadline=start + 1) as scope:
        scope.deadline = start + 10
        mock_clock.jump(5)  # past the old deadline, before the new one
        for _ in range(3):
            await checkpoint()
        assert not scope.cancel_called
        mock_clock.jump(5)
        await nursery.sleep_forever()
    assert scope.cancelled_caught


# ---------------------------------------------------------------- sleeping


async def test_sleep_until_infinity_sleeps_until_cancelled(autojump_clock: MockClock) -> None:
    start = nursery.current_time()
    with nursery.move_on_after(7) as scope:
        await nursery.sleep_until(math.inf)
    assert scope.cancelled_caught
    assert nursery.current_time() == start + 7


async def test_sleep_forever_woken_by_reschedule_is_a_runtime_error() -> None:
    errors: list[BaseException] = []
    tasks: list[Task] = []

    async def sleeper() -> None:
        tasks.append(current_task())
        try:
            await nursery.sleep_forever()
        except RuntimeError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        reschedule(tasks[0])
    (error,) = errors
    assert "reschedule" in str(error)


# ---------------------------------------------------------------- wait_all_tasks_blocked


@pytest.mark.parametrize("cushion", [-1.0, math.nan])
async def test_wait_all_tasks_blocked_rejects_bad_cushions(cushion: float) -> None:
    with pytest.raises(ValueError, match="cushion"):
        await wait_all_tasks_blocked(cushion)


async def test_cancelled_wait_all_tasks_blocked_leaves_no_trace() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        await wait_all_tasks_blocked()
    assert scope.cancelled_caught
    # Had the cancelled waiter stayed registered, the next idle moment would wake
    # this task out of the parking lot below before anyone unparked it.
    lot = ParkingLot()
    order: list[str] = []

    async def unparker() -> None:
        await wait_all_tasks_blocked()
        order.append("unpark")
        lot.unpark()

    async with nursery.open_nursery() as n:
        n.start_soon(unparker)
        await lot.park()
        order.append("woke")
    assert order == ["unpark", "woke"]


async def test_only_the_smallest_cushion_wakes_first() -> None:
    log: list[str] = []
    patient_scope = nursery.CancelScope()

    async def patient() -> None:
        with patient_scope:
            await wait_all_tasks_blocked(cushion=3600)
            log.append("patient woke")  # pragma: no cover
        log.append("patient cancelled")

    async def eager() -> None:
        await wait_all_tasks_blocked()
        log.append("eager woke")
        patient_scope.cancel()

    async with nursery.open_nursery() as n:
        n.start_soon(patient)
        await wait_all_tasks_blocked(cushion=0)  # let patient register first
        n.start_soon(eager)
    assert log[-2:] == ["eager woke", "patient cancelled"]


async def test_idle_wait_does_not_win_over_an_expired_deadline(mock_clock: MockClock) -> None:
    log: list[str] = []

    async def sleeper() -> None:
        await nursery.sleep(1)
        log.append("sleeper woke")

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        mock_clock.jump(2)  # the sleeper's deadline passed; the loop has not seen it
        await wait_all_tasks_blocked()
        log.append("all blocked")
    # "All tasks blocked" is not true while a deadline is due: the sleeper first.
    assert log == ["sleeper woke", "all blocked"]


# ---------------------------------------------------------------- the mock clock


def test_mock_clock_repr_shows_time_and_rate() -> None:
    clock = MockClock()
    clock.jump(1.25)
    text = repr(clock)
    assert "time=1.2500000" in text
    assert "rate=0.0" in text


@pytest.mark.parametrize("value", [-1.0, math.nan])
def test_mock_clock_rejects_bad_autojump_thresholds(value: float) -> None:
    with pytest.raises(ValueError, match="autojump_threshold"):
        MockClock(autojump_threshold=value)
    clock = MockClock()
    with pytest.raises(ValueError, match="autojump_threshold"):
        clock.autojump_threshold = value
    assert clock.autojump_threshold == math.inf


async def test_autojump_lands_exactly_on_the_deadline(autojump_clock: MockClock) -> None:
    # 0.13 + (1.2 - 0.13) is one rounding step short of 1.2 in binary floating point.
    autojump_clock.jump(0.13)
    await nursery.sleep_until(1.2)
    assert nursery.current_time() == 1.2


def test_autojump_with_nothing_scheduled_leaves_the_clock_alone() -> None:
    clock = MockClock(autojump_threshold=0)
    scope = nursery.CancelScope()

    class WakeAfterTwoIdlePolls(Instrument):
        def __init__(self) -> None:
            self.armed = False
            self.idle_polls = 0

        def before_io_wait(self, timeout: float) -> None:
            stats = current_statistics()
            if not self.armed or stats.tasks_runnable:
                return
            assert stats.seconds_to_next_deadline == math.inf
            self.idle_polls += 1
            if self.idle_polls == 2:
                current_token().run_sync_soon(scope.cancel)

    waker = WakeAfterTwoIdlePolls()

    async def main() -> float:
        start = nursery.current_time()
        with scope:
            waker.armed = True
            await nursery.sleep_forever()
        return nursery.current_time() - start

    assert nursery.run(main, clock=clock, instruments=[waker]) == 0
    assert scope.cancelled_caught
    assert waker.idle_polls >= 2


async def test_autojump_can_be_switched_on_and_off_mid_run(mock_clock: MockClock) -> None:
    start = nursery.current_time()
    mock_clock.autojump_threshold = 0
    await nursery.sleep(30)
    assert nursery.current_time() == start + 30
    mock_clock.autojump_threshold = math.inf
    with nursery.move_on_after(5) as scope:
        await wait_all_tasks_blocked()  # no autojump any more: time stands still
        assert nursery.current_time() == start + 30
        mock_clock.jump(5)
        await nursery.sleep_forever()
    assert scope.cancelled_caught


class ManualClock(Clock):
    """A clock moved by hand, reporting sleep times below zero once a deadline has
    passed (the loop must treat those as zero)."""

    def __init__(self) -> None:
        self.now = 0.0

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self.now

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return deadline - self.now if deadline != math.inf else 86400.0


def test_clock_reporting_a_negative_sleep_time() -> None:
    clock = ManualClock()
    woke: list[float] = []

    async def sleeper() -> None:
        await nursery.sleep(1)
        woke.append(nursery.current_time())

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(sleeper)
            await wait_all_tasks_blocked()
            clock.now = 10.0  # far past the deadline: sleep time -9

    nursery.run(main, clock=clock)
    assert woke == [10.0]


def test_run_rejects_something_that_is_not_a_clock() -> None:
    with pytest.raises(TypeError, match="Clock"):
        nursery.run(checkpoint, clock=object())  # type: ignore[arg-type]
