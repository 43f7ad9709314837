"""The only code that yields to the kernel.

A task talks to the run loop by yielding one of the typed messages below from a
``types.coroutine`` generator; the loop answers by sending a value or throwing an
exception back in. Anything else a coroutine yields is a foreign object (usually an
asyncio future), and the loop throws a ``TypeError`` back that says so.
"""

from __future__ import annotations

import enum
import types
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Final, NoReturn, final

from ._context import current_task

if TYPE_CHECKING:
    from ._task import Task
from ._ki import enable_ki_protection


class Abort(enum.Enum):
    """What an abort function tells the kernel: ``SUCCEEDED`` means the wait was undone
    and the task may be woken with the cancellation; ``FAILED`` means the task stays
    asleep and whoever wakes it later is responsible for it."""

    SUCCEEDED = 1
    FAILED = 2


RaiseCancelT = Callable[[], NoReturn]


@final
class CheckpointMessage:
    """Reschedule me; raise ``Cancelled`` instead if my cancel status is cancelled."""

    __slots__ = ()


@final
class ShieldedCheckpointMessage:
    """Reschedule me, and ignore cancellation."""

    __slots__ = ()


@final
class WaitMessage:
    """Park me until someone calls ``reschedule``. The abort function that undoes the
    wait is already in the task's ``_abort_func``: the trap sets it just before it
    yields, so that no message object is built per wait."""

    __slots__ = ()


@final
class WakeWithError:
    """What the loop sends into a waiting task that must wake with an exception: the
    trap raises it from its own frame. Throwing it in instead would hit CPython's
    ``throw()`` through nested coroutines (bpo-40694), which leaves the outer frames'
    exception state out: ``sys.exc_info()`` and implicit chaining go wrong in the
    awaiting function."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error: BaseException | None = error

    def take(self) -> BaseException:
        # Emptied before it is raised, so that the trap's frame (kept by the
        # traceback) does not hold the exception: no reference cycle.
        error, self.error = self.error, None
        assert error is not None
        return error


CHECKPOINT: Final = CheckpointMessage()
SHIELDED_CHECKPOINT: Final = ShieldedCheckpointMessage()
WAIT: Final = WaitMessage()


# The two checkpoint traps are singletons whose ``await`` yields their message once,
# through the iterator of a one-item tuple: no generator (object, frame, resumption) is
# built per checkpoint, and each ``await`` gets an iterator of its own. The loop resumes
# a task after a checkpoint by sending None, which ends the iteration.


@final
class _CheckpointTrap:
    __slots__ = ()
    __await__ = (CHECKPOINT,).__iter__


@final
class _ShieldedCheckpointTrap:
    __slots__ = ()
    __await__ = (SHIELDED_CHECKPOINT,).__iter__


CHECKPOINT_TRAP: Final[Awaitable[None]] = _CheckpointTrap()  # type: ignore[assignment]
SHIELDED_CHECKPOINT_TRAP: Final[Awaitable[None]] = _ShieldedCheckpointTrap()  # type: ignore[assignment]


# The public functions are coroutine functions, as in Trio (they may be spawned as
# tasks, and inspect calls them coroutine functions); nursery's own code awaits the trap
# singletons directly.


async def checkpoint() -> None:
    """A checkpoint: a schedule point and a cancel point.

    Lets other tasks run, and raises ``Cancelled`` if this task is inside a cancelled
    scope.
    """
    await CHECKPOINT_TRAP


async def cancel_shielded_checkpoint() -> None:
    """A schedule point that is not a cancel point."""
    await SHIELDED_CHECKPOINT_TRAP


# How a wait is undone on cancellation: an abort function, or, for the library's own
# wait queues, the queue itself: an OrderedDict keyed by the sleeping tasks, which the
# task leaves when its wait is aborted (always successfully). A queue costs nothing per
# wait, where an abort function is a closure built for every one.
AbortHow = Callable[[RaiseCancelT], Abort] | OrderedDict["Task", Any]


@types.coroutine
def suspend_task(task: Task, abort_func: AbortHow) -> Generator[WaitMessage, Any, Any]:
    """``wait_task_rescheduled`` for kernel code that knows the current task already.
    ``abort_func``: an abort function, or the wait queue the task sleeps in (see
    ``AbortHow``).

    The abort goes into the task only here, when the wait is awaited and the task is
    about to yield: a running task must never carry one, since an abort is the kernel's
    sign that a task is asleep.
    """
    task._abort_func = abort_func
    value = yield WAIT
    if type(value) is WakeWithError:
        raise value.take()
    return value


async def wait_task_rescheduled(
    abort_func: Callable[[RaiseCancelT], Abort],
) -> Any:
    """Put this task to sleep until ``reschedule(task, outcome)`` wakes it.

    The outcome's value is returned (or its error raised). If the task is cancelled while
    asleep, the kernel calls ``abort_func(raise_cancel)``: return ``Abort.SUCCEEDED`` after
    undoing whatever would have woken the task, and the task wakes with the exception that
    ``raise_cancel()`` raises; return ``Abort.FAILED`` if the wake-up can no longer be
    undone, and then something must still call ``reschedule``. Calling ``raise_cancel``
    inside ``abort_func`` lets the function capture the exception instead.
    """
    return await suspend_task(current_task(), abort_func)


@enable_ki_protection
async def checkpoint_if_cancelled() -> None:
    """A cancel point that is a schedule point only when it raises.

    Cheaper than ``checkpoint()`` when the task is usually not cancelled.
    """
    task = current_task()
    if task._cancel_status.effectively_cancelled or (
        task is task._runner.main_task and task._runner.ki_pending
    ):
        await CHECKPOINT_TRAP
    task._cancel_mark = True
