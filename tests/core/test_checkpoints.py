"""The kernel's checkpoint primitives, and which operations are checkpoints."""

from __future__ import annotations

import socket

import pytest

import nursery
from nursery.lowlevel import (
    Abort,
    ParkingLot,
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_readable,
    wait_task_rescheduled,
    wait_writable,
)
from nursery.testing import assert_checkpoints, wait_all_tasks_blocked


def counts() -> tuple[int, int]:
    task = current_task()
    return task._cancel_points, task._schedule_points


async def test_checkpoint_is_a_cancel_point_and_a_schedule_point() -> None:
    cancel_before, schedule_before = counts()
    await checkpoint()
    cancel_after, schedule_after = counts()
    assert cancel_after > cancel_before
    assert schedule_after > schedule_before


async def test_checkpoint_raises_when_cancelled() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await checkpoint()


async def test_checkpoint_lets_other_tasks_run() -> None:
    # A task that spins on checkpoint() must not starve the task it waits for.
    flag: list[bool] = []

    async def setter() -> None:
        flag.append(True)

    async with nursery.open_nursery() as n:
        n.start_soon(setter)
        while not flag:
            await checkpoint()


async def test_checkpoint_if_cancelled_does_not_schedule_when_not_cancelled() -> None:
    _, schedule_before = counts()
    await checkpoint_if_cancelled()
    _, schedule_after = counts()
    assert schedule_after == schedule_before


async def test_checkpoint_if_cancelled_counts_as_a_cancel_point() -> None:
    cancel_before, _ = counts()
    await checkpoint_if_cancelled()
    cancel_after, _ = counts()
    assert cancel_after > cancel_before


async def test_checkpoint_if_cancelled_raises_when_cancelled() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await checkpoint_if_cancelled()


async def test_cancel_shielded_checkpoint_never_raises_cancelled() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        _, schedule_before = counts()
        await cancel_shielded_checkpoint()
        _, schedule_after = counts()
    assert schedule_after > schedule_before
    assert not scope.cancelled_caught


async def test_cancel_shielded_checkpoint_is_not_a_cancel_point() -> None:
    cancel_before, _ = counts()
    await cancel_shielded_checkpoint()
    cancel_after, _ = counts()
    assert cancel_after == cancel_before


async def test_wait_task_rescheduled_is_a_checkpoint() -> None:
    me = current_task()

    async def waker() -> None:
        reschedule(me)

    async with nursery.open_nursery() as n:
        n.start_soon(waker)
        with assert_checkpoints():
            await wait_task_rescheduled(lambda _: Abort.FAILED)


async def test_parking_is_a_checkpoint() -> None:
    lot = ParkingLot()

    async def waker() -> None:
        await wait_all_tasks_blocked()
        lot.unpark_all()

    async with nursery.open_nursery() as n:
        n.start_soon(waker)
        with assert_checkpoints():
            await lot.park()


async def test_start_is_a_checkpoint() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        task_status.started()

    async with nursery.open_nursery() as n:
        with assert_checkpoints():
            await n.start(child)


async def test_wait_all_tasks_blocked_is_a_checkpoint() -> None:
    with assert_checkpoints():
        await wait_all_tasks_blocked()


async def test_io_waits_are_checkpoints_even_when_ready() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.send(b"x")
        await wait_all_tasks_blocked()
        with assert_checkpoints():
            await wait_readable(a)
        with assert_checkpoints():
            await wait_writable(a)


async def test_io_waits_raise_cancelled_even_when_ready() -> None:
    a, b = socket.socketpair()
    with a, b, nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await wait_writable(a)


async def test_custom_sleep_data_is_reset_by_every_schedule_point() -> None:
    # Trio documents custom_sleep_data as set to None whenever the task is rescheduled.
    task = nursery.lowlevel.current_task()
    task.custom_sleep_data = "mine"
    await nursery.lowlevel.checkpoint()
    assert task.custom_sleep_data is None
    task.custom_sleep_data = "mine"
    await nursery.lowlevel.cancel_shielded_checkpoint()
    assert task.custom_sleep_data is None
    task.custom_sleep_data = "mine"
    await nursery.sleep(0)
    assert task.custom_sleep_data is None
