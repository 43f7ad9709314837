"""ParkingLot: a fair wait queue with cancellation, requeuing and breaking."""

from __future__ import annotations

import math

import pytest

import nursery
from nursery.lowlevel import (
    ParkingLot,
    ParkingLotStatistics,
    Task,
    add_parking_lot_breaker,
    current_task,
    remove_parking_lot_breaker,
)
from nursery.testing import wait_all_tasks_blocked


async def park_in_order(
    n: nursery.Nursery, lot: ParkingLot, names: str, woken: list[str]
) -> dict[str, Task]:
    """Park one task per name, in that order; return the tasks by name."""
    tasks: dict[str, Task] = {}

    async def parker(name: str) -> None:
        tasks[name] = current_task()
        await lot.park()
        woken.append(name)

    for name in names:
        n.start_soon(parker, name)
        # Let it park before the next one starts, so the order is known.
        await wait_all_tasks_blocked()
    return tasks


async def test_park_blocks_until_unpark() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot, "a", woken)
        assert woken == []
        assert len(lot) == 1
        lot.unpark()
    assert woken == ["a"]
    assert len(lot) == 0


async def test_unpark_wakes_in_fifo_order() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot, "abcd", woken)
        for _ in range(4):
            lot.unpark()
            await wait_all_tasks_blocked()
    assert woken == ["a", "b", "c", "d"]


async def test_unpark_returns_the_woken_tasks_oldest_first() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        tasks = await park_in_order(n, lot, "abc", woken)
        assert lot.unpark(count=2) == [tasks["a"], tasks["b"]]
        assert len(lot) == 1
        assert lot.unpark(count=5) == [tasks["c"]]
    assert sorted(woken) == ["a", "b", "c"]


async def test_unpark_on_an_empty_lot_does_nothing() -> None:
    lot = ParkingLot()
    assert lot.unpark() == []
    assert lot.unpark_all() == []


async def test_unpark_count_infinity_wakes_everyone() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot, "abc", woken)
        assert len(lot.unpark(count=math.inf)) == 3
    assert sorted(woken) == ["a", "b", "c"]


async def test_unpark_all_wakes_everyone() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        tasks = await park_in_order(n, lot, "abc", woken)
        assert lot.unpark_all() == [tasks["a"], tasks["b"], tasks["c"]]
    assert sorted(woken) == ["a", "b", "c"]


async def test_len_bool_and_statistics() -> None:
    lot = ParkingLot()
    assert not lot
    assert lot.statistics() == ParkingLotStatistics(tasks_waiting=0)
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot, "ab", [])
        assert lot
        assert len(lot) == 2
        assert lot.statistics().tasks_waiting == 2
        lot.unpark_all()


async def test_cancelled_parker_leaves_the_lot() -> None:
    lot = ParkingLot()
    woken: list[str] = []
    scope = nursery.CancelScope()

    async def cancellable_parker() -> None:
        with scope:
            await lot.park()
        woken.append("cancelled one")

    async with nursery.open_nursery() as n:
        await park_in_order(n, lot, "a", woken)
        n.start_soon(cancellable_parker)
        await wait_all_tasks_blocked()
        await park_in_order(n, lot, "b", woken)
        assert len(lot) == 3
        scope.cancel()
        await wait_all_tasks_blocked()
        assert len(lot) == 2
        assert woken == ["cancelled one"]
        lot.unpark_all()
    assert scope.cancelled_caught
    assert sorted(woken) == ["a", "b", "cancelled one"]


async def test_repark_moves_tasks_in_order() -> None:
    lot1, lot2 = ParkingLot(), ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot2, "x", woken)
        await park_in_order(n, lot1, "abc", woken)
        lot1.repark(lot2, count=2)
        assert (len(lot1), len(lot2)) == (1, 3)
        # Moved tasks queue up behind those already in the new lot.
        for _ in range(3):
            lot2.unpark()
            await wait_all_tasks_blocked()
        assert woken == ["x", "a", "b"]
        lot1.unpark_all()
    assert woken == ["x", "a", "b", "c"]


async def test_repark_defaults_to_one_task() -> None:
    lot1, lot2 = ParkingLot(), ParkingLot()
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot1, "ab", [])
        lot1.repark(lot2)
        assert (len(lot1), len(lot2)) == (1, 1)
        lot1.unpark_all()
        lot2.unpark_all()


async def test_repark_all_moves_everyone() -> None:
    lot1, lot2 = ParkingLot(), ParkingLot()
    woken: list[str] = []
    async with nursery.open_nursery() as n:
        await park_in_order(n, lot1, "abc", woken)
        lot1.repark_all(lot2)
        assert (len(lot1), len(lot2)) == (0, 3)
        lot1.unpark_all()
        await wait_all_tasks_blocked()
        assert woken == []
        lot2.unpark_all()
    assert sorted(woken) == ["a", "b", "c"]


async def test_reparked_task_can_still_be_cancelled() -> None:
    lot1, lot2 = ParkingLot(), ParkingLot()
    scope = nursery.CancelScope()

    async def parker() -> None:
        with scope:
            await lot1.park()

    async with nursery.open_nursery() as n:
        n.start_soon(parker)
        await wait_all_tasks_blocked()
        lot1.repark(lot2)
        scope.cancel()
        await wait_all_tasks_blocked()
        # Cancellation removed it from the lot it was moved to.
        assert len(lot2) == 0
    assert scope.cancelled_caught


async def test_repark_to_something_else_is_a_type_error() -> None:
    lot = ParkingLot()
    with pytest.raises(TypeError):
        lot.repark([])  # type: ignore[arg-type]


# ---------------------------------------------------------------- breaking


async def test_break_lot_raises_in_parked_tasks_and_new_parkers() -> None:
    lot = ParkingLot()
    errors: list[BaseException] = []

    async def parker() -> None:
        try:
            await lot.park()
        except nursery.BrokenResourceError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(parker)
        n.start_soon(parker)
        await wait_all_tasks_blocked()
        lot.break_lot()
    assert len(errors) == 2
    assert len(lot) == 0
    assert lot.broken_by == [current_task()]
    with pytest.raises(nursery.BrokenResourceError):
        await lot.park()


async def test_break_lot_records_the_given_task() -> None:
    lot = ParkingLot()
    root = nursery.lowlevel.current_root_task()
    assert root is not None
    lot.break_lot(root)
    assert lot.broken_by == [root]


async def test_unpark_and_repark_on_a_broken_lot_do_nothing() -> None:
    lot, other = ParkingLot(), ParkingLot()
    lot.break_lot()
    assert lot.unpark() == []
    lot.repark_all(other)
    assert len(other) == 0


async def test_parking_lot_breaker_breaks_the_lot_when_its_task_exits() -> None:
    lot = ParkingLot()
    errors: list[BaseException] = []

    async def owner() -> None:
        add_parking_lot_breaker(current_task(), lot)
        await wait_all_tasks_blocked()
        # Exits without unparking anyone.

    async def parker() -> None:
        try:
            await lot.park()
        except nursery.BrokenResourceError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(owner)
        n.start_soon(parker)
    assert len(errors) == 1
    assert len(lot.broken_by) == 1


async def test_removed_parking_lot_breaker_does_not_break_the_lot() -> None:
    lot = ParkingLot()

    async def owner() -> None:
        add_parking_lot_breaker(current_task(), lot)
        remove_parking_lot_breaker(current_task(), lot)

    async with nursery.open_nursery() as n:
        n.start_soon(owner)
    assert lot.broken_by == []
    lot.unpark_all()  # still usable


async def test_removing_an_unregistered_breaker_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        remove_parking_lot_breaker(current_task(), ParkingLot())


async def test_adding_an_exited_task_as_breaker_is_an_error() -> None:
    tasks: list[Task] = []

    async def short() -> None:
        tasks.append(current_task())

    async with nursery.open_nursery() as n:
        n.start_soon(short)
    with pytest.raises(nursery.BrokenResourceError):
        add_parking_lot_breaker(tasks[0], ParkingLot())
