"""Event: set once, wakes every waiter in arrival order, cancellable waits."""

from __future__ import annotations

import pytest
from sync_helpers import start_in_order

import nursery
from nursery import Event, EventStatistics
from nursery.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked


async def test_wait_blocks_until_set_and_set_wakes_everyone() -> None:
    # (They are all made runnable at once; the scheduler picks the order they run in,
    # so the test checks who woke, not in which order.)
    event = Event()
    woken: list[str] = []

    async def waiter(name: str) -> None:
        await event.wait()
        woken.append(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a", "b", "c")
        assert woken == []
        assert not event.is_set()
        assert event.statistics() == EventStatistics(tasks_waiting=3)
        with assert_no_checkpoints():
            event.set()  # synchronous
        assert event.is_set()
        assert event.statistics().tasks_waiting == 0
    assert sorted(woken) == ["a", "b", "c"]


async def test_wait_on_a_set_event_is_still_a_checkpoint() -> None:
    event = Event()
    event.set()
    with assert_checkpoints():
        await event.wait()
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await event.wait()


async def test_set_twice_is_harmless() -> None:
    event = Event()
    event.set()
    event.set()
    assert event.is_set()
    await event.wait()


async def test_cancelled_waiter_leaves_and_the_others_still_wake() -> None:
    event = Event()
    woken: list[str] = []
    scopes: dict[str, nursery.CancelScope] = {}

    async def waiter(name: str) -> None:
        with nursery.CancelScope() as scopes[name]:
            await event.wait()
            woken.append(name)
            return
        woken.append(f"{name} cancelled")

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a", "b", "c")
        scopes["b"].cancel()
        await wait_all_tasks_blocked()
        assert woken == ["b cancelled"]
        assert event.statistics().tasks_waiting == 2
        event.set()
    assert woken[0] == "b cancelled"
    assert sorted(woken[1:]) == ["a", "c"]
    assert event.statistics().tasks_waiting == 0


async def test_wait_with_a_timeout(autojump_clock: object) -> None:
    event = Event()
    with nursery.move_on_after(5) as scope:
        await event.wait()
    assert scope.cancelled_caught
    assert event.statistics().tasks_waiting == 0


async def test_a_later_wait_after_set_does_not_block() -> None:
    event = Event()
    async with nursery.open_nursery() as n:
        n.start_soon(event.wait)
        await wait_all_tasks_blocked()
        event.set()
    await event.wait()  # no deadlock: the flag stays set


def test_event_has_no_truth_value() -> None:
    with pytest.raises(NotImplementedError, match="is_set"):
        bool(Event())


def test_repr_and_statistics_are_values() -> None:
    event = Event()
    assert "unset" in repr(event)
    stats = event.statistics()
    assert stats == EventStatistics(tasks_waiting=0)
    with pytest.raises(AttributeError):
        stats.tasks_waiting = 1  # type: ignore[misc]
