"""Handing a task's coroutine object to another coroutine runner, and taking it back.

For libraries that drive coroutines themselves (a bridge to another event loop, a
greenlet adapter): the task's coroutine stops being stepped by nursery and is stepped by
whoever calls its ``send`` / ``throw``, then comes back (``temporarily_...`` and
``reattach_...``) or never does (``permanently_...``).

How it works with the kernel: detaching is an ordinary sleep in the kernel's eyes (the
task yields the wait message and nobody reschedules it), so no new kernel message is
needed. What resumes the coroutine next is the foreign runner, which sends its own
values into the suspended ``yield``. Reattaching reschedules the sleeping task, then
yields once more, to the foreign runner, which stops stepping the coroutine; the
kernel's next step of the task resumes it from there.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Generator
from typing import Any

import outcome

from ._context import current_task
from ._ki import enable_ki_protection
from ._runner import reschedule
from ._task import Task
from ._traps import Abort, RaiseCancelT, suspend_task

# What the kernel sends into a reattached coroutine: the foreign runner never has it.
_REATTACHED: Any = object()


def _abort_fails(_: RaiseCancelT) -> Abort:
    return Abort.FAILED


@types.coroutine
def _yield_to_runner(value: object) -> Generator[Any, Any, Any]:
    return (yield value)


async def temporarily_detach_coroutine_object(
    abort_func: Callable[[RaiseCancelT], Abort],
) -> object:
    """Stop nursery from stepping this task's coroutine until
    ``reattach_detached_coroutine_object``; meanwhile another coroutine runner steps it
    (reach the coroutine through ``current_task().coro``, before detaching).

    The task stays alive, asleep. Returns (or raises) whatever the other runner first
    sends (or throws) into the coroutine. ``abort_func`` is called if the task is
    cancelled while detached, as for ``wait_task_rescheduled``, but it must return
    ``Abort.FAILED``: only a reattach may resume the task. It should make the other
    runner wind the coroutine's work down and reattach.
    """
    if not callable(abort_func):
        raise TypeError(
            f"temporarily_detach_coroutine_object() expected an abort function, got {abort_func!r}"
        )
    return await suspend_task(current_task(), abort_func)


async def reattach_detached_coroutine_object(task: Task, yield_value: object) -> None:
    """Give a coroutine detached with ``temporarily_detach_coroutine_object`` back to
    nursery. Call it from inside that coroutine, while the other runner steps it.

    ``yield_value`` is yielded to the other runner (presumably something that tells it
    to stop stepping this coroutine); nursery resumes the task at its next opportunity,
    and this call returns there.
    """
    if not isinstance(task, Task):
        raise TypeError(f"reattach_detached_coroutine_object() expected a Task, got {task!r}")
    # Only a running coroutine can be the caller. (A coarse check: the task running the
    # other runner passes it too, and is caught by reschedule as not asleep.)
    if not getattr(task.coro, "cr_running", False):
        raise RuntimeError(
            f"reattach_detached_coroutine_object() must be called from inside the "
            f"coroutine of {task!r}"
        )
    reschedule(task, outcome.Value(_REATTACHED))
    sent = await _yield_to_runner(yield_value)
    if sent is not _REATTACHED:
        raise RuntimeError(
            f"{task!r} was stepped by its other coroutine runner after it reattached "
            f"(it sent {sent!r}); only nursery may resume it now"
        )


@enable_ki_protection
async def permanently_detach_coroutine_object(
    final_outcome: outcome.Outcome[Any],
) -> object:
    """End this task as far as nursery is concerned, with ``final_outcome`` as its
    result (an ``outcome.Value``, or an ``outcome.Error`` whose exception its nursery
    sees), while its coroutine lives on under another coroutine runner.

    Release every nursery resource first: open nurseries are a ``RuntimeError`` here,
    and open cancel scopes turn the task's result into one. Returns (or raises) whatever
    the other runner first sends (or throws) into the coroutine.
    """
    if not isinstance(final_outcome, (outcome.Value, outcome.Error)):
        raise TypeError(
            "permanently_detach_coroutine_object() expected an outcome.Value or "
            f"outcome.Error, got {final_outcome!r}"
        )
    task = current_task()
    if task._child_nurseries:
        raise RuntimeError("can't permanently detach a coroutine object with open nurseries")
    if type(final_outcome) is outcome.Value:
        task._runner.task_exited(task, final_outcome.value, None)
    else:
        task._runner.task_exited(task, None, final_outcome.error)
    # The task is gone from the run; its coroutine still has to suspend, which it does
    # as a wait nobody will end (an abort then fails: there is nothing to cancel).
    return await suspend_task(task, _abort_fails)
