"""When a checkpoint looks for cancellation: after its schedule point, as the task
resumes. Cancellation that arrives while the task waits in the run queue (an expired
deadline, another task's ``cancel()``) is raised by that same checkpoint."""

from __future__ import annotations

import pytest

import nursery
from nursery.lowlevel import checkpoint
from nursery.testing import MockClock


async def test_a_deadline_passed_before_a_checkpoint_cancels_at_that_checkpoint(
    mock_clock: MockClock,
) -> None:
    with nursery.CancelScope(deadline=nursery.current_time() + 5) as scope:
        await checkpoint()
        mock_clock.jump(10)
        with pytest.raises(nursery.Cancelled):
            await checkpoint()
    assert not scope.cancelled_caught  # pytest.raises caught it inside the scope


async def test_a_checkpoint_never_returns_normally_after_its_scope_was_cancelled() -> None:
    # Whichever order the batch runs the two tasks in, once cancel() has run the
    # victim's pending checkpoint must raise rather than return.
    cancelled = False
    steps_after_cancel: list[int] = []

    async def victim(scope: nursery.CancelScope) -> None:
        with scope:
            while True:
                await checkpoint()
                if cancelled:
                    steps_after_cancel.append(1)

    async def canceller(scope: nursery.CancelScope) -> None:
        nonlocal cancelled
        for _ in range(3):
            await checkpoint()
        scope.cancel()
        cancelled = True

    scope = nursery.CancelScope()
    async with nursery.open_nursery() as n:
        n.start_soon(victim, scope)
        n.start_soon(canceller, scope)
    assert scope.cancelled_caught
    assert steps_after_cancel == []


async def test_fail_after_with_a_jumped_clock_fails_at_the_next_checkpoint(
    mock_clock: MockClock,
) -> None:
    with pytest.raises(nursery.TooSlowError):
        with nursery.fail_after(1):
            mock_clock.jump(2)
            await checkpoint()
