"""Sleeping, and reading the time and the deadline that applies here.

A sleep puts the task itself in the deadline heap (no cancel scope is allocated): the
deadline wakes it, a cancellation aborts it and drops the entry.
"""

from __future__ import annotations

import math
from typing import NoReturn

from . import _context
from ._ki import enable_ki_protection
from ._traps import CHECKPOINT_TRAP, Abort, RaiseCancelT, suspend_task, wait_task_rescheduled


def _abort_forever(_: RaiseCancelT) -> Abort:
    return Abort.SUCCEEDED


async def sleep_forever() -> NoReturn:
    """Sleep until cancelled."""
    await wait_task_rescheduled(_abort_forever)
    raise RuntimeError("a task in sleep_forever() was woken by reschedule()")


@enable_ki_protection
async def sleep_until(deadline: float) -> None:
    """Sleep until the run's clock reaches ``deadline`` (a checkpoint even if it has
    already passed)."""
    if math.isnan(deadline):
        raise ValueError("sleep_until(deadline) must not be NaN")
    task = _context.current_task()
    if deadline == math.inf:
        await sleep_forever()
    deadlines = task._runner.deadlines
    deadlines.add(deadline, task)

    def abort(_: RaiseCancelT) -> Abort:
        deadlines.remove(task)
        return Abort.SUCCEEDED

    try:
        await suspend_task(task, abort)
    finally:
        # Whatever woke us (the deadline, or a reschedule() by someone else), the entry
        # must not outlive the sleep.
        deadlines.remove(task)


async def sleep(seconds: float) -> None:
    """Sleep for ``seconds`` (>= 0) on the run's clock. ``sleep(0)`` is a bare
    checkpoint."""
    if seconds == 0:
        _context.current_task()  # outside a run this must fail like any other sleep
        await CHECKPOINT_TRAP
        return
    if not seconds >= 0:
        raise ValueError(f"sleep(seconds) must be >= 0 and not NaN, got {seconds!r}")
    runner = _context.current_runner()
    await sleep_until(runner.clock.current_time() + seconds)


def current_effective_deadline() -> float:
    """The deadline that applies here: the earliest of the enclosing cancel scopes'
    deadlines, up to the first shield; ``-inf`` if already cancelled, ``inf`` if none."""
    status = _context.current_task()._cancel_status
    if status.effectively_cancelled:
        return -math.inf
    return status.effective_deadline()
