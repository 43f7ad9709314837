"""nursery.testing.assert_checkpoints / assert_no_checkpoints."""

from __future__ import annotations

import pytest

import nursery
from nursery.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
)
from nursery.testing import assert_checkpoints, assert_no_checkpoints

# ---------------------------------------------------------------- assert_checkpoints


async def test_assert_checkpoints_passes_for_a_checkpoint() -> None:
    with assert_checkpoints():
        await checkpoint()


async def test_assert_checkpoints_passes_for_several_checkpoints() -> None:
    with assert_checkpoints():
        await checkpoint()
        await nursery.sleep(0)


async def test_assert_checkpoints_fails_for_no_checkpoint() -> None:
    with pytest.raises(AssertionError):
        with assert_checkpoints():
            pass


async def test_assert_checkpoints_fails_for_a_schedule_point_alone() -> None:
    with pytest.raises(AssertionError):
        with assert_checkpoints():
            await cancel_shielded_checkpoint()


async def test_assert_checkpoints_fails_for_a_cancel_point_alone() -> None:
    # Not cancelled, checkpoint_if_cancelled() checks for cancellation but
    # never lets another task run.
    with pytest.raises(AssertionError):
        with assert_checkpoints():
            await checkpoint_if_cancelled()


async def test_assert_checkpoints_lets_exceptions_through_unchecked() -> None:
    # Leaving by an exception is accepted whether or not a checkpoint ran.
    with pytest.raises(KeyError):
        with assert_checkpoints():
            raise KeyError("no checkpoint, but an exception")


async def test_assert_checkpoints_accepts_leaving_by_cancellation() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        with assert_checkpoints():
            await checkpoint()
    assert scope.cancelled_caught


async def test_assert_checkpoints_only_counts_its_own_block() -> None:
    await checkpoint()  # before the block: must not count
    with pytest.raises(AssertionError):
        with assert_checkpoints():
            pass


# ---------------------------------------------------------------- assert_no_checkpoints


async def test_assert_no_checkpoints_passes_for_synchronous_code() -> None:
    with assert_no_checkpoints():
        nursery.current_time()


async def test_assert_no_checkpoints_fails_for_a_checkpoint() -> None:
    with pytest.raises(AssertionError):
        with assert_no_checkpoints():
            await checkpoint()


async def test_assert_no_checkpoints_fails_for_a_schedule_point_alone() -> None:
    with pytest.raises(AssertionError):
        with assert_no_checkpoints():
            await cancel_shielded_checkpoint()


async def test_assert_no_checkpoints_fails_for_a_cancel_point_alone() -> None:
    with pytest.raises(AssertionError):
        with assert_no_checkpoints():
            await checkpoint_if_cancelled()


async def test_assert_no_checkpoints_lets_exceptions_through_when_clean() -> None:
    with pytest.raises(KeyError):
        with assert_no_checkpoints():
            raise KeyError("no checkpoint")


async def test_assert_no_checkpoints_reports_a_checkpoint_before_an_exception() -> None:
    with pytest.raises(AssertionError):
        with assert_no_checkpoints():
            await checkpoint()
            raise KeyError("after a checkpoint")


async def test_assert_no_checkpoints_only_counts_its_own_block() -> None:
    await checkpoint()
    with assert_no_checkpoints():
        pass
    await checkpoint()


def test_helpers_outside_a_task_are_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        with assert_checkpoints():
            pass  # pragma: no cover
    with pytest.raises(RuntimeError):
        with assert_no_checkpoints():
            pass  # pragma: no cover
