"""EntryQueue.complete_soon: how the library's worker threads hand results back.

Completions run from the loop right after the I/O poll that sees them, outside any
task, and keep FIFO order with the ordinary run_sync_soon callbacks queued before them.
"""

from __future__ import annotations

import threading

import pytest
from thread_helpers import in_thread

import nursery
from nursery import RunFinishedError, to_thread
from nursery._core._context import current_runner
from nursery.lowlevel import current_task, current_token
from nursery.testing import wait_all_tasks_blocked


async def test_a_completion_wakes_a_loop_asleep_in_epoll_and_runs_outside_tasks() -> None:
    entry_queue = current_runner().entry_queue
    lot = nursery.lowlevel.ParkingLot()
    seen: list[tuple[str, object]] = []

    def completion(arg: str) -> None:
        seen.append((arg, nursery.lowlevel.in_task()))
        lot.unpark()

    async def complete_later() -> None:
        await wait_all_tasks_blocked()  # the main task is parked, the loop asleep
        await nursery.to_thread.run_sync(entry_queue.complete_soon, completion, "done")

    async with nursery.open_nursery() as n:
        n.start_soon(complete_later)
        await lot.park()
    assert seen == [("done", False)]


async def test_completions_keep_fifo_order_behind_ordinary_callbacks() -> None:
    entry_queue = current_runner().entry_queue
    token = current_token()
    order: list[str] = []

    def from_thread() -> None:
        token.run_sync_soon(order.append, "callback 1")
        token.run_sync_soon(order.append, "callback 2")
        entry_queue.complete_soon(order.append, "completion")

    # The entry-queue task is asleep in its I/O wait, and the thread queues everything
    # before the run sees any of it.
    await wait_all_tasks_blocked()
    in_thread(from_thread)
    while len(order) < 3:
        await nursery.sleep(0)
    assert order == ["callback 1", "callback 2", "completion"]


async def test_a_completion_is_seen_while_the_loop_stays_busy() -> None:
    entry_queue = current_runner().entry_queue
    done = threading.Event()
    in_thread(lambda: entry_queue.complete_soon(lambda _: done.set(), None))
    # Never idle: only the busy loop's periodic I/O poll can notice the completion.
    steps = 0
    while not done.is_set():
        await nursery.sleep(0)
        steps += 1
    assert steps <= 100


def test_complete_soon_after_the_run_is_run_finished_error() -> None:
    async def main() -> object:
        return current_runner().entry_queue

    entry_queue = nursery.run(main)
    with pytest.raises(RunFinishedError):
        entry_queue.complete_soon(print, "too late")  # type: ignore[attr-defined]


def test_a_crashing_completion_ends_the_run_with_internal_error() -> None:
    async def main() -> None:
        entry_queue = current_runner().entry_queue

        def crash(_: object) -> None:
            raise ValueError("completion bug")

        in_thread(lambda: entry_queue.complete_soon(crash, None))
        await nursery.sleep_forever()

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert isinstance(info.value.__cause__, ValueError)


async def test_to_thread_result_reaches_the_task_and_gives_the_token_back() -> None:
    limiter = nursery.CapacityLimiter(1)
    me = current_task()
    assert await to_thread.run_sync(lambda: 7, limiter=limiter) == 7
    assert limiter.borrowed_tokens == 0
    assert current_task() is me
