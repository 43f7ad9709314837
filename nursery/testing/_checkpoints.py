"""Context managers that check whether a block of code passes a checkpoint.

A checkpoint is both a cancel point (where a pending cancellation would be
delivered) and a schedule point (where other tasks may run). The task's
``_cancel_points`` and ``_schedule_points`` grow between two reads exactly when it
passed one of that kind in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from nursery.lowlevel import Task, current_task


def _counts(task: Task) -> tuple[int, int]:
    return task._cancel_points, task._schedule_points


@contextmanager
def _expect_checkpoint() -> Iterator[None]:
    __tracebackhide__ = True
    task = current_task()
    cancel_before, schedule_before = _counts(task)
    yield
    # Only checked when the block finishes normally: leaving by an exception
    # is acceptable whether or not a checkpoint happened first.
    cancel_after, schedule_after = _counts(task)
    missing = []
    if cancel_after == cancel_before:
        missing.append("cancel point")
    if schedule_after == schedule_before:
        missing.append("schedule point")
    if missing:
        raise AssertionError(
            f"expected a checkpoint in this block, but it had no {' and no '.join(missing)}"
        )


@contextmanager
def _forbid_checkpoint() -> Iterator[None]:
    __tracebackhide__ = True
    task = current_task()
    before = _counts(task)
    try:
        yield
    finally:
        # Checked even when the block raised: a checkpoint it passed before
        # raising is still a checkpoint it was not allowed to have.
        if _counts(task) != before:
            raise AssertionError("expected no checkpoint in this block, but it had one")


def assert_checkpoints() -> AbstractContextManager[None]:
    """Context manager that fails with :exc:`AssertionError` if its block
    finishes without having passed a full checkpoint (a cancel point and a
    schedule point). A block that raises is not checked.

    Example::

        with assert_checkpoints():
            await nursery.sleep(0)
    """
    __tracebackhide__ = True
    return _expect_checkpoint()


def assert_no_checkpoints() -> AbstractContextManager[None]:
    """Context manager that fails with :exc:`AssertionError` if its block
    passes any cancel point or schedule point, whether it then finishes
    normally or by raising.

    Example::

        with assert_no_checkpoints():
            lot.unpark_all()  # synchronous, so never a checkpoint
    """
    __tracebackhide__ = True
    return _forbid_checkpoint()
