"""Helpers for the synchronization-primitive tests (imported by conftest.py and the
tests; pytest puts this directory on sys.path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import Task
from nursery.testing import wait_all_tasks_blocked


class StepHook(Instrument):
    """Runs an action in the kernel, between two task steps, the first time a step ends
    with a condition true.

    This is how the tests land a cancellation in the one-step window of an acquire
    that has already taken what it wanted and yields once more (a cancel-shielded
    schedule point): the step that took the lock ends, the hook cancels the scope, and
    the task resumes into a cancelled scope. No sleeps, no timing.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Callable[[], bool], Callable[[], object]]] = []
        self.fired = 0

    def once(self, condition: Callable[[], bool], action: Callable[[], object]) -> None:
        self._pending.append((condition, action))

    def after_task_step(self, task: Task) -> None:
        for entry in list(self._pending):
            condition, action = entry
            if condition():
                self._pending.remove(entry)
                self.fired += 1
                action()


async def start_in_order(
    n: nursery.Nursery, async_fn: Callable[..., Awaitable[object]], *args_per_task: object
) -> None:
    """Start ``async_fn(arg)`` for each arg, letting each one run until it blocks before
    starting the next: the tasks reach whatever they block on in argument order."""
    for arg in args_per_task:
        n.start_soon(async_fn, arg)
        await wait_all_tasks_blocked()
