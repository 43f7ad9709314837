"""The one place that knows which run (and which task) this thread is in.

The run of a thread lives in a thread-local; the task stepping right now is
``runner.current_task``, a plain attribute the loop writes once a step. Finding it
through the thread-local costs a lookup that shows in every checkpoint, so each task's
own contextvars carry a hint, ``TASK_HINT``: a context-variable read is several times
cheaper than a thread-local one. The hint is left by the task's first ``current_task()``
call that has to ask the thread-local, not at spawn: a task that never asks (most
short ones) pays nothing for it.

The hint is only trusted when the runner agrees that its task is the one stepping now.
It can be wrong: a new task's context is a copy of its spawner's, hint included, and a
task's context copied into another thread carries it along. In those cases the answer
comes from the thread-local, which is always right.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runner import Runner
    from ._task import Task


class _RunContext(threading.local):
    runner: Runner


GLOBAL_RUN_CONTEXT = _RunContext()

TASK_HINT: contextvars.ContextVar[Task | None] = contextvars.ContextVar(
    "nursery.current_task", default=None
)

# The hint of the context running now, as a plain callable. Code elsewhere calls this
# rather than ``TASK_HINT.get()``: CPython 3.11 compiles a method call on an imported
# name as an attribute load plus a call, which builds a bound method every time.
get_task_hint = TASK_HINT.get

NOT_IN_RUN = "must be called from inside nursery.run() (no run is active in this thread)"


def current_runner() -> Runner:
    """The active run of this thread, or ``RuntimeError`` if there is none."""
    try:
        return GLOBAL_RUN_CONTEXT.runner
    except AttributeError:
        raise RuntimeError(NOT_IN_RUN) from None


def current_task() -> Task:
    """The task that is running now."""
    task = TASK_HINT.get()
    if task is not None and task._runner.current_task is task:
        return task
    task = current_task_or_none()
    if task is None:
        raise RuntimeError(NOT_IN_RUN)
    _leave_hint(task)
    return task


def _leave_hint(task: Task) -> None:
    """Put the hint in ``task``'s own context, if that is the one running: not in
    another context (an instrument's ``before_task_step`` runs in the loop's, and a
    task may run code in a context of its own making), which must stay as it was."""
    own = task.context
    if own.get(TASK_HINT) is task:
        return  # its context has the hint already: the running one is another
    token = TASK_HINT.set(task)
    if own.get(TASK_HINT) is not task:
        TASK_HINT.reset(token)  # the running context was not the task's own


def current_task_or_none() -> Task | None:
    """The task that is running now in this thread, or None (outside a run, or in the
    kernel's own work between steps). Asks the thread-local: not for hot paths."""
    runner = getattr(GLOBAL_RUN_CONTEXT, "runner", None)
    return None if runner is None else runner.current_task


def in_run() -> bool:
    """Whether this thread is inside ``nursery.run()``."""
    return hasattr(GLOBAL_RUN_CONTEXT, "runner")


def in_task() -> bool:
    """Whether a task of a run is executing in this thread right now."""
    return current_task_or_none() is not None
