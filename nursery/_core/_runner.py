"""The state of one run: the run queue, spawning, rescheduling, task exit, system tasks.

The loop that drives it is in ``_loop``. Everything here runs in the run's thread.
"""

from __future__ import annotations

import contextvars
import random
from collections.abc import Callable, Coroutine
from inspect import CO_COROUTINE
from types import FunctionType
from typing import TYPE_CHECKING, Any

import attrs
import outcome
from sortedcontainers import SortedDict

from . import _context
from ._abc import Clock, Instrument
from ._cancel_scope import CancelScope
from ._cancel_status import CancelStatus
from ._deadlines import Deadlines
from ._entry_queue import EntryQueue, RunToken
from ._exceptions import Cancelled, CancelReason, InternalError
from ._instruments import Instruments
from ._io._contract import FileDescriptorLike, IOStatistics
from ._io._epoll import EpollBackend
from ._ki import enable_ki_protection
from ._task import Task
from ._traps import Abort, RaiseCancelT, WakeWithError, suspend_task
from ._util import coroutine_or_error

if TYPE_CHECKING:
    from ._asyncgens import AsyncGenHooks
    from ._nursery import Nursery
    from ._parking_lot import ParkingLot


# Builds a Task without the public-constructor guard (that guard is for users).
_new_task = type.__call__
_TASK_HINT = _context.TASK_HINT


def _clear_task_hint() -> None:
    _TASK_HINT.set(None)


@attrs.frozen
class RunStatistics:
    """A snapshot of the run: ``tasks_living``, ``tasks_runnable``,
    ``seconds_to_next_deadline`` (``inf`` for none), ``io_statistics``,
    ``run_sync_soon_queue_size``, and ``seed``, the scheduler's random seed (pass it as
    ``run(..., random_seed=seed)`` to replay the same scheduling order)."""

    tasks_living: int
    tasks_runnable: int
    seconds_to_next_deadline: float
    io_statistics: IOStatistics
    run_sync_soon_queue_size: int
    seed: int


class Runner:
    """One call of ``nursery.run``."""

    def __init__(
        self,
        clock: Clock,
        instruments: Instruments,
        strict_exception_groups: bool,
        seed: int,
    ) -> None:
        self.clock = clock
        self.instruments = instruments
        self.strict_exception_groups = strict_exception_groups
        self.seed = seed
        self.random = random.Random(seed)
        self.io = EpollBackend()
        self.deadlines = Deadlines()
        self.entry_queue = EntryQueue(self)
        self.token = RunToken._create(self.entry_queue)
        self.runq: list[Task] = []
        self.tasks: set[Task] = set()
        self.run_vars: dict[Any, Any] = {}
        self.parking_lot_breakers: dict[Task, list[ParkingLot]] = {}
        # wait_all_tasks_blocked: (cushion, sequence) -> task, smallest cushion first.
        self.waiting_for_idle: SortedDict = SortedDict()
        self.idle_seq = 0
        # The clock's autojump threshold, mirrored here so the loop reads one attribute.
        self.clock_autojump_threshold = float("inf")
        self.ki_pending = False
        self.crashed: InternalError | None = None
        # The task being stepped now; None between steps (see _context).
        self.current_task: Task | None = None

        self.init_task: Task | None = None
        self.main_task: Task | None = None
        self.main_task_outcome: outcome.Outcome[Any] | None = None
        self.system_nursery: Nursery | None = None
        self.system_context = contextvars.copy_context()
        self.init_task_outcome: outcome.Outcome[Any] | None = None
        self.asyncgens: AsyncGenHooks  # set by run()

        # The root of the cancel-status tree: the init task's, never cancelled.
        self.root_scope = CancelScope()
        self.root_scope._has_been_entered = True
        self.root_status = CancelStatus(self.root_scope, None)
        self.root_scope._cancel_status = self.root_status

    def close(self) -> None:
        self.io.close()
        self.entry_queue.close()

    # -- spawning and rescheduling -----------------------------------------------------

    @enable_ki_protection
    def spawn_impl(
        self,
        async_fn: Callable[..., Coroutine[Any, Any, Any]],
        args: tuple[Any, ...],
        nursery: Nursery | None,
        name: object,
        *,
        system_task: bool = False,
        context: contextvars.Context | None = None,
        what: str = "start_soon()",
        name_from: object = None,
    ) -> Task:
        """Create a task running ``async_fn(*args)`` in ``nursery``. Without ``name``,
        the task is named after ``name_from`` (default: ``async_fn``)."""
        if nursery is not None and nursery._closed:
            raise RuntimeError("this nursery is closed to new tasks")
        if context is None:
            context = self.system_context.copy() if system_task else contextvars.copy_context()
        if type(async_fn) is FunctionType and async_fn.__code__.co_flags & CO_COROUTINE:
            # An 'async def' function: calling it only builds the coroutine, no user
            # code runs, so neither the checks nor the context are needed for that.
            coro = async_fn(*args)
        else:
            coro = context.run(coroutine_or_error, async_fn, args, what)
        if name is None:
            # Task.name works the name out from the function when asked.
            name = async_fn if name_from is None else name_from
        elif not isinstance(name, str):
            name = str(name)
        task: Task = _new_task(Task, coro, self, name, nursery, context, system_task)
        self.tasks.add(task)
        status = nursery._cancel_status if nursery is not None else self.root_status
        if nursery is not None:
            nursery._children.add(task)
        task._cancel_status = status
        status.tasks.add(task)
        instruments = self.instruments
        if instruments:
            if "task_spawned" in instruments:
                instruments.call("task_spawned", task)
            self.reschedule_value(task, None)
        else:
            self.runq.append(task)
        return task

    def reschedule_value(self, task: Task, value: Any) -> None:
        """Make a sleeping task runnable; it gets ``value`` back from its wait."""
        task._abort_func = None
        task.custom_sleep_data = None
        task._next_value = value
        self.runq.append(task)
        if "task_scheduled" in self.instruments:
            self.instruments.call("task_scheduled", task)

    def reschedule_error(self, task: Task, exc: BaseException) -> None:
        """Make a sleeping task runnable; its wait raises ``exc``."""
        task._abort_func = None
        task.custom_sleep_data = None
        # Sent, not thrown: the wait trap raises it itself (see WakeWithError).
        task._next_value = WakeWithError(exc)
        self.runq.append(task)
        if "task_scheduled" in self.instruments:
            self.instruments.call("task_scheduled", task)

    def reschedule_same(self, task: Task) -> None:
        """Put a task that just yielded a checkpoint back in the queue (the loop uses
        this only when instruments are installed; it appends directly otherwise)."""
        self.runq.append(task)
        if "task_scheduled" in self.instruments:
            self.instruments.call("task_scheduled", task)

    # -- task exit ---------------------------------------------------------------------

    @enable_ki_protection
    def task_exited(self, task: Task, value: Any, error: BaseException | None) -> None:
        """``task`` returned ``value``, or raised ``error`` (not None)."""
        nursery = task._parent_nursery
        home = nursery._cancel_status if nursery is not None else self.root_status
        if task._cancel_status is not home:
            # The task finished with cancel scopes still open (a scope entered by hand
            # and never exited, or a generator suspended inside one).
            # Trio's words for a nursery left open, so code that matches them works.
            what = (
                "Nursery stack corrupted"
                if task._child_nurseries
                else "cancel scope stack corrupted"
            )
            misnesting = RuntimeError(
                f"{what}: {task!r} exited with its cancel scope "
                f"{task._cancel_status.scope!r} still open (a nursery or cancel scope "
                "entered without being exited)"
            )
            misnesting.__context__ = error
            error = misnesting
            # Cancel what was left open, so that the children of an abandoned nursery
            # unwind instead of running on where nothing can reach them.
            status = task._cancel_status
            while status is not home and status.parent is not None:
                status.abandoned = True
                status.scope._cancel(CancelReason("unknown", "misnesting"))
                status.close()
                status = status.parent
        task._cancel_status.tasks.discard(task)
        self.tasks.discard(task)

        if task._system_task:
            if task is self.init_task:
                self.init_task_outcome = (
                    outcome.Value(value) if error is None else outcome.Error(error)
                )
            elif error is not None and type(error) is not Cancelled:
                self.crash(f"system task {task!r} crashed", error)
            error = None
        elif task is self.main_task:
            self.main_task_outcome = outcome.Value(value) if error is None else outcome.Error(error)
            error = None  # it goes to run()'s caller, not to the system nursery
            assert self.system_nursery is not None
            self.system_nursery.cancel_scope._cancel(
                CancelReason("shutdown", "the main task finished", repr(task))
            )
        if nursery is not None:
            nursery._child_finished(task, error)

        if self.parking_lot_breakers:
            for lot in self.parking_lot_breakers.pop(task, ()):
                lot.break_lot(task)
        if "task_exited" in self.instruments:
            self.instruments.call("task_exited", task)
        # Break reference cycles through the coroutine's frames promptly.
        task._next_value = None
        task._next_exc = None
        context = task.context
        if context.get(_TASK_HINT) is task:
            # And the one through the current-task hint (task -> its context -> the
            # task), so that a finished task is freed by reference counting, not left
            # for the garbage collector.
            try:
                context.run(_clear_task_hint)
            except RuntimeError:
                pass  # running it still (a task detaching itself): the cycle stays

    def crash(self, what: str, exc: BaseException | None) -> None:
        """Something that must not fail did: end the run with ``InternalError``."""
        error = InternalError(f"internal error in nursery: {what}")
        error.__cause__ = exc
        if self.crashed is None:
            self.crashed = error
        if self.system_nursery is not None:
            self.system_nursery.cancel_scope._cancel(CancelReason("shutdown", what))

    # -- KeyboardInterrupt -------------------------------------------------------------

    def deliver_ki(self) -> None:
        """Runs (via the entry queue) after SIGINT arrived in protected code: the
        handler already flagged it; wake the main task if it sleeps. If the interrupt was
        delivered meanwhile, nothing is left to do; if the main task is gone, run()
        raises it at the end."""
        main = self.main_task
        if self.ki_pending and main is not None and main in self.tasks:
            main._ki_pending = True
            main._attempt_delivery_of_pending_ki()

    # -- the init task -----------------------------------------------------------------

    async def init(self, async_fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        from ._asyncgens import finalize_remaining
        from ._nursery import open_nursery

        async with open_nursery() as entry_nursery:
            async with open_nursery() as system_nursery:
                self.system_nursery = system_nursery
                try:
                    self.main_task = self.spawn_impl(
                        async_fn, args, system_nursery, None, what="run()"
                    )
                except BaseException as exc:
                    self.main_task_outcome = outcome.Error(exc)
                    system_nursery.cancel_scope._cancel(
                        CancelReason("shutdown", "the main task could not start")
                    )
                self.spawn_impl(
                    self.entry_queue.task,
                    (),
                    entry_nursery,
                    "<RunToken.run_sync_soon task>",
                    system_task=True,
                )
            # Every task but the entry-queue one is gone: close leftover async
            # generators while callbacks can still run, then stop the callbacks.
            await finalize_remaining(self)
            entry_nursery.cancel_scope._cancel(CancelReason("shutdown", "the run is finishing"))

    def statistics(self) -> RunStatistics:
        next_deadline = self.deadlines.next_deadline()
        return RunStatistics(
            tasks_living=len(self.tasks),
            tasks_runnable=len(self.runq),
            seconds_to_next_deadline=next_deadline - self.clock.current_time(),
            io_statistics=self.io.statistics(),
            run_sync_soon_queue_size=self.entry_queue.size(),
            seed=self.seed,
        )


# -- the public functions over the runner (re-exported by nursery.lowlevel) ----------

_NONE_VALUE: outcome.Value[None] = outcome.Value(None)


@enable_ki_protection
def reschedule(task: Task, next_send: outcome.Outcome[Any] = _NONE_VALUE) -> None:
    """Wake ``task``, which must be asleep in ``wait_task_rescheduled``; its wait returns
    the outcome's value or raises its error."""
    if not isinstance(next_send, (outcome.Value, outcome.Error)):
        raise TypeError(
            f"reschedule() expected an outcome.Value or outcome.Error, got {next_send!r}"
        )
    runner = _context.current_runner()
    if task._runner is not runner or task not in runner.tasks:
        raise RuntimeError(f"{task!r} is not a living task of this run")
    # An asleep task has an abort function, unless its abort already failed; only then
    # are the (rarer, slower) checks needed: running now, or already in the run queue.
    if task._abort_func is None and (task is runner.current_task or task in runner.runq):
        raise RuntimeError(
            f"reschedule() of {task!r}, which is not asleep in wait_task_rescheduled()"
        )
    if type(next_send) is outcome.Value:
        runner.reschedule_value(task, next_send.value)
    else:
        runner.reschedule_error(task, next_send.error)


def current_root_task() -> Task | None:
    """The run's first task (internal; the parent of everything)."""
    return _context.current_runner().init_task


def current_clock() -> Clock:
    """The run's clock."""
    return _context.current_runner().clock


def current_statistics() -> RunStatistics:
    """A snapshot of the run's state (see ``RunStatistics``)."""
    return _context.current_runner().statistics()


def current_token() -> RunToken:
    """The run's ``RunToken``, for calling into the run from other threads."""
    return _context.current_runner().token


def current_time() -> float:
    """The current time on the run's clock."""
    return _context.current_runner().clock.current_time()


@enable_ki_protection
def add_instrument(instrument: Instrument) -> None:
    """Start calling ``instrument``'s hooks in this run."""
    _context.current_runner().instruments.add_instrument(instrument)


@enable_ki_protection
def remove_instrument(instrument: Instrument) -> None:
    """Stop calling ``instrument``; ``KeyError`` if it is not installed."""
    _context.current_runner().instruments.remove_instrument(instrument)


@enable_ki_protection
def spawn_system_task(
    async_fn: Callable[..., Coroutine[Any, Any, Any]],
    *args: object,
    name: object = None,
    context: contextvars.Context | None = None,
) -> Task:
    """Start a system task: it lives in the run's system nursery (outside the main
    task's tree), is cancelled when the main task finishes, and is KeyboardInterrupt
    protected. If it raises anything but ``Cancelled``, the run ends with
    ``InternalError``."""
    runner = _context.current_runner()
    return runner.spawn_impl(
        async_fn, args, runner.system_nursery, name, system_task=True, context=context
    )


async def wait_readable(fd: FileDescriptorLike) -> None:
    """Sleep until ``fd`` (an int, or an object with ``fileno()``) is readable; a
    checkpoint. One task at a time per fd (``BusyResourceError``); if another task
    calls ``notify_closing(fd)``, this raises ``ClosedResourceError``."""
    await _context.current_runner().io.wait_readable(fd)


async def wait_writable(fd: FileDescriptorLike) -> None:
    """Sleep until ``fd`` is writable; like ``wait_readable``."""
    await _context.current_runner().io.wait_writable(fd)


def notify_closing(fd: FileDescriptorLike) -> None:
    """Call before closing ``fd``: tasks waiting on it wake with ``ClosedResourceError``
    and the kernel forgets it. Not a checkpoint."""
    _context.current_runner().io.notify_closing(fd)


@enable_ki_protection
async def wait_all_tasks_blocked(cushion: float = 0.0) -> None:
    """Sleep until every other task is blocked, and has been for ``cushion`` seconds of
    real time. Tasks waiting with the smallest cushion wake first, together."""
    if cushion < 0 or cushion != cushion:
        raise ValueError(f"wait_all_tasks_blocked(cushion=...) must be >= 0, got {cushion!r}")
    runner = _context.current_runner()
    task = _context.current_task()
    runner.idle_seq += 1
    key = (float(cushion), runner.idle_seq)
    runner.waiting_for_idle[key] = task

    def abort(_: RaiseCancelT) -> Abort:
        del runner.waiting_for_idle[key]
        return Abort.SUCCEEDED

    await suspend_task(task, abort)
