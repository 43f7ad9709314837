"""Task: one coroutine the kernel steps, and what it should receive next."""

from __future__ import annotations

import contextvars
import gc
from collections import OrderedDict
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any, final

from ._exceptions import CancelReason, make_cancelled
from ._traps import Abort
from ._util import NoPublicConstructor, name_of

if TYPE_CHECKING:
    from ._cancel_status import CancelStatus
    from ._nursery import Nursery
    from ._runner import Runner


@final
class CancelRaiser:
    """The ``raise_cancel`` handed to abort functions.

    One is made per cancellation and shared by every task it reaches, so cancelling many
    tasks allocates one exception per task and nothing else.
    """

    __slots__ = ("cancel_reason",)

    def __init__(self, cancel_reason: CancelReason) -> None:
        self.cancel_reason = cancel_reason

    def make(self) -> BaseException:
        return make_cancelled(self.cancel_reason)

    def __call__(self) -> Any:
        raise self.make()


@final
class KeyboardInterruptRaiser:
    """``raise_cancel`` for a KeyboardInterrupt delivered to the main task. Making the
    exception marks the interrupt as delivered."""

    __slots__ = ("task",)

    def __init__(self, task: Task) -> None:
        self.task = task

    def make(self) -> BaseException:
        self.task._ki_pending = False
        self.task._runner.ki_pending = False
        return KeyboardInterrupt()

    def __call__(self) -> Any:
        raise self.make()


@final
class Task(metaclass=NoPublicConstructor):
    """A task of the current run. Created by the runtime (``start_soon``, ``start``,
    ``spawn_system_task``); users never construct one."""

    __slots__ = (
        "__weakref__",
        "_abort_func",
        "_cancel_count",
        "_cancel_mark",
        "_cancel_status",
        "_child_nurseries",
        "_coro_send",
        "_deadline_seq",
        "_ki_pending",
        "_name",
        "_next_exc",
        "_next_value",
        "_parent_nursery",
        "_runner",
        "_schedule_count",
        "_schedule_mark",
        "_system_task",
        "context",
        "coro",
        "custom_sleep_data",
        "eventual_parent_nursery",
    )

    # Checkpoint marks and counts (see __init__): slots left unset until first used.
    _cancel_mark: bool
    _cancel_count: int
    _schedule_mark: bool
    _schedule_count: int

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        runner: Runner,
        name: object,
        parent_nursery: Nursery | None,
        context: contextvars.Context,
        system_task: bool,
    ) -> None:
        self.coro = coro
        # The coroutine type's own send, shared by every task of that type: the loop
        # calls it with the coroutine, so that no bound method is built per step.
        self._coro_send = type(coro).send
        self._runner = runner
        # A str, or the function the task runs: its name is worked out only if asked
        # for, which keeps spawning cheap.
        self._name = name
        self._parent_nursery = parent_nursery
        self.eventual_parent_nursery: Nursery | None = None
        self.context = context
        self._system_task = system_task
        # The nurseries this task has open, innermost last: a list from the first one
        # on; until then the shared empty tuple, so that spawning allocates no list.
        self._child_nurseries: list[Nursery] | tuple[()] = ()
        self.custom_sleep_data: Any = None
        self._cancel_status: CancelStatus = None  # type: ignore[assignment]  # set by spawn
        self._abort_func: Any = None
        self._next_value: Any = None
        self._next_exc: BaseException | None = None
        # Checkpoint accounting for assert_checkpoints(): the kernel only raises a mark
        # (a store, where a count would build a new int past 256); reading
        # _cancel_points or _schedule_points folds the mark into a count. The four
        # slots start unset (read with a default) so that spawning pays nothing.
        self._ki_pending = False
        self._deadline_seq = 0  # a pending sleep's entry in the deadline heap

    @property
    def _cancel_points(self) -> int:
        """How many times this task was seen passing cancel points: a number that has
        grown between two reads if, and only if, the task passed one in between (several
        passes between two reads count once)."""
        return self._fold_mark("_cancel_mark", "_cancel_count")

    @property
    def _schedule_points(self) -> int:
        """The same for schedule points. The loop marks a task each time it resumes
        it, so a read from inside the task sees growth exactly when the task yielded
        to the loop since the previous read."""
        return self._fold_mark("_schedule_mark", "_schedule_count")

    def _fold_mark(self, mark: str, count_name: str) -> int:
        """Add the mark, if raised, to its count (both slots may still be unset), lower
        it, and return the count."""
        count: int = getattr(self, count_name, 0)
        if getattr(self, mark, False):
            setattr(self, mark, False)
            count += 1
        setattr(self, count_name, count)
        return count

    def _deadline_expired(self) -> None:
        """The end of a ``sleep``: wake up."""
        self._runner.reschedule_value(self, None)

    def __repr__(self) -> str:
        return f"<Task {self.name!r} at {id(self):#x}>"

    @property
    def name(self) -> str:
        """The task's name: the ``name=`` given when it was started, else the qualified
        name of its function."""
        name = self._name
        if not isinstance(name, str):
            name = self._name = name_of(name)
        return name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def parent_nursery(self) -> Nursery | None:
        """The nursery this task runs in (``None`` for the run's first, internal task)."""
        return self._parent_nursery

    @property
    def child_nurseries(self) -> list[Nursery]:
        """The nurseries this task has open, outermost first."""
        return list(self._child_nurseries)

    def iter_await_frames(self) -> Iterator[tuple[FrameType, int]]:
        """Yield ``(frame, lineno)`` down the chain of awaits this task is suspended in,
        from the task's own coroutine to the innermost one."""
        coro: Any = self.coro
        while coro is not None:
            if hasattr(coro, "cr_frame"):
                frame, coro = coro.cr_frame, coro.cr_await
            elif hasattr(coro, "gi_frame"):
                frame, coro = coro.gi_frame, coro.gi_yieldfrom
            elif hasattr(coro, "ag_frame"):
                frame, coro = coro.ag_frame, coro.ag_await
            elif type(coro).__name__ in ("async_generator_asend", "async_generator_athrow"):
                # These wrappers do not expose their generator (CPython gh-76991); the
                # garbage collector's view of what they refer to does.
                agen = next((r for r in gc.get_referents(coro) if hasattr(r, "ag_frame")), None)
                if agen is None:
                    return
                frame, coro = agen.ag_frame, agen.ag_await
            else:
                return
            if frame is None:
                return
            yield frame, frame.f_lineno

    # -- cancellation delivery (called by the cancel-status tree and the KI machinery) --

    def _activate_cancel_status(self, status: CancelStatus) -> None:
        old = self._cancel_status
        if old is not None:
            old.tasks.discard(self)
        self._cancel_status = status
        status.tasks.add(self)
        if status.effectively_cancelled:
            self._attempt_delivery_of_any_pending_cancel()

    def _attempt_delivery_of_any_pending_cancel(self, raiser: CancelRaiser | None = None) -> None:
        if self._abort_func is None or not self._cancel_status.effectively_cancelled:
            return
        if raiser is None:
            raiser = CancelRaiser(self._cancel_status.cancel_reason())
        self._attempt_abort(raiser)

    def _attempt_delivery_of_pending_ki(self) -> None:
        if self._abort_func is not None:
            self._attempt_abort(KeyboardInterruptRaiser(self))

    def _attempt_abort(self, raiser: CancelRaiser | KeyboardInterruptRaiser) -> None:
        abort_func = self._abort_func
        self._abort_func = None
        if type(abort_func) is OrderedDict:
            # A wait queue (see _traps.AbortHow): leaving it undoes the wait.
            del abort_func[self]
            self._runner.reschedule_error(self, raiser.make())
            return
        raised = False
        try:
            success = abort_func(raiser)
        except BaseException as exc:
            success = raised = True
            self._runner.crash("an abort function raised", exc)
        if type(success) is not Abort:
            if not raised:
                self._runner.crash(
                    f"an abort function returned {success!r}; expected Abort.SUCCEEDED "
                    "or Abort.FAILED",
                    None,
                )
            # The run is ending; wake the task (cancelled) so that it, and with it the
            # run, can finish rather than hang with nothing left to wake it.
            if self not in self._runner.runq:
                self._runner.reschedule_error(self, raiser.make())
        elif success is Abort.SUCCEEDED:
            self._runner.reschedule_error(self, raiser.make())
        # On Abort.FAILED the wait could not be undone: the task stays asleep without an
        # abort function, and whoever wakes it later is responsible for it.
