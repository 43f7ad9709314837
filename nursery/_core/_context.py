"""The one place that knows which run (and which task) this thread is in."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runner import Runner
    from ._task import Task


class _RunContext(threading.local):
    runner: Runner
    task: Task


GLOBAL_RUN_CONTEXT = _RunContext()

NOT_IN_RUN = "must be called from inside nursery.run() (no run is active in this thread)"


def current_runner() -> Runner:
    """The active run of this thread, or ``RuntimeError`` if there is none."""
    try:
        return GLOBAL_RUN_CONTEXT.runner
    except AttributeError:
        raise RuntimeError(NOT_IN_RUN) from None


def current_task() -> Task:
    """The task that is running now."""
    try:
        return GLOBAL_RUN_CONTEXT.task
    except AttributeError:
        raise RuntimeError(NOT_IN_RUN) from None


def in_run() -> bool:
    """Whether this thread is inside ``nursery.run()``."""
    return hasattr(GLOBAL_RUN_CONTEXT, "runner")


def in_task() -> bool:
    """Whether a task of a run is executing in this thread right now."""
    return hasattr(GLOBAL_RUN_CONTEXT, "task")
