"""RunToken.run_sync_soon: re-entering a run from threads and callbacks."""

from __future__ import annotations

import threading

import pytest
from thread_helpers import in_thread

import nursery
from nursery.lowlevel import (
    ParkingLot,
    RunToken,
    current_token,
    currently_ki_protected,
    in_task,
)
from nursery.testing import wait_all_tasks_blocked


async def test_current_token_is_the_same_object_throughout_a_run() -> None:
    token = current_token()
    assert isinstance(token, RunToken)
    seen: list[RunToken] = []

    async def child() -> None:
        seen.append(current_token())

    async with nursery.open_nursery() as n:
        n.start_soon(child)
    assert seen == [token]


def test_each_run_has_its_own_token() -> None:
    async def main() -> RunToken:
        return current_token()

    assert nursery.run(main) is not nursery.run(main)


async def test_callbacks_from_a_thread_run_in_fifo_order_in_the_run_thread() -> None:
    token = current_token()
    lot = ParkingLot()
    calls: list[tuple[int, int]] = []

    def record(i: int) -> None:
        calls.append((i, threading.get_ident()))

    def submit() -> None:
        for i in range(100):
            token.run_sync_soon(record, i)
        token.run_sync_soon(lot.unpark_all)

    # The callbacks can only run once we block, and we block on the lot
    # before yielding, so the final unpark cannot be missed.
    in_thread(submit)
    await lot.park()
    assert [i for i, _ in calls] == list(range(100))
    assert {ident for _, ident in calls} == {threading.get_ident()}


async def test_run_sync_soon_wakes_a_loop_blocked_in_io_wait() -> None:
    token = current_token()
    lot = ParkingLot()
    thread = threading.Thread(target=token.run_sync_soon, args=(lot.unpark_all,))
    # Guard against a kernel that never wakes up: fail instead of hanging.
    with nursery.fail_after(30):
        thread.start()
        await lot.park()
    thread.join()


async def test_idempotent_calls_are_merged_while_pending() -> None:
    token = current_token()
    calls: list[str] = []
    # No checkpoint in between, so all three are pending at once.
    for _ in range(3):
        token.run_sync_soon(calls.append, "same", idempotent=True)
    token.run_sync_soon(calls.append, "other", idempotent=True)
    await wait_all_tasks_blocked()
    assert sorted(calls) == ["other", "same"]


async def test_idempotent_call_runs_again_once_the_first_has_run() -> None:
    token = current_token()
    calls: list[str] = []
    token.run_sync_soon(calls.append, "x", idempotent=True)
    await wait_all_tasks_blocked()
    token.run_sync_soon(calls.append, "x", idempotent=True)
    await wait_all_tasks_blocked()
    assert calls == ["x", "x"]


async def test_non_idempotent_calls_are_never_merged() -> None:
    token = current_token()
    calls: list[str] = []
    for _ in range(3):
        token.run_sync_soon(calls.append, "same")
    await wait_all_tasks_blocked()
    assert calls == ["same"] * 3


async def test_callbacks_run_in_a_task_with_ki_protection() -> None:
    token = current_token()
    seen: list[tuple[bool, bool]] = []
    token.run_sync_soon(lambda: seen.append((in_task(), currently_ki_protected())))
    await wait_all_tasks_blocked()
    assert seen == [(True, True)]


def test_accepted_callback_runs_before_the_run_returns() -> None:
    calls: list[str] = []

    async def main() -> None:
        current_token().run_sync_soon(calls.append, "late")
        # Return at once: the queued callback must still be processed.

    nursery.run(main)
    assert calls == ["late"]


def test_run_sync_soon_after_the_run_is_run_finished_error() -> None:
    async def main() -> RunToken:
        return current_token()

    token = nursery.run(main)
    with pytest.raises(nursery.RunFinishedError):
        token.run_sync_soon(lambda: None)
    errors: list[BaseException] = []

    def from_thread() -> None:
        try:
            token.run_sync_soon(lambda: None)
        except nursery.RunFinishedError as exc:
            errors.append(exc)

    in_thread(from_thread)
    assert len(errors) == 1
    assert issubclass(nursery.RunFinishedError, RuntimeError)


def test_crashing_callback_ends_the_run_with_internal_error() -> None:
    def crash() -> None:
        raise ValueError("callback bug")

    async def main() -> None:
        current_token().run_sync_soon(crash)
        await nursery.sleep_forever()

    with pytest.raises(nursery.InternalError):
        nursery.run(main)
