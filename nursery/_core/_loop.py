"""``run()``: the loop that drives a run.

One pass of the loop: wait for I/O (not at all when tasks are runnable, else until the
next deadline), fire expired deadlines, handle idleness (``wait_all_tasks_blocked`` and
the mock clock's autojump), then run one batch: the tasks that were runnable when the
batch began, each for one step. A task made runnable during a batch runs in the next.

The order inside a batch is varied by a seeded random generator: code that depends on
scheduling order fails early and, given the seed, replayably.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import outcome

from . import _context
from ._abc import Clock, Instrument
from ._asyncgens import AsyncGenHooks
from ._clock import SystemClock
from ._context import GLOBAL_RUN_CONTEXT
from ._exceptions import InternalError, make_cancelled
from ._instruments import Instruments
from ._ki import enable_ki_protection, ki_protected_at, mark_task_boundary
from ._runner import Runner
from ._task import Task
from ._traps import CHECKPOINT, SHIELDED_CHECKPOINT, WAIT

T = TypeVar("T")

SEED_ENV_VAR = "NURSERY_SEED"
# While tasks are runnable, poll for I/O (with a zero timeout) once this many task
# steps have run since the last poll: often enough that a ready socket waits only a
# few steps, rarely enough that a busy loop does not pay an epoll_wait per step.
POLL_EVERY_STEPS = 32

_IDLE_WAITERS = 1
_AUTOJUMP = 2


def run(
    async_fn: Callable[..., Coroutine[Any, Any, T]],
    *args: object,
    clock: Clock | None = None,
    instruments: Sequence[Instrument] = (),
    strict_exception_groups: bool = True,
    restrict_keyboard_interrupt_to_checkpoints: bool = False,
    random_seed: int | None = None,
) -> T:
    """Run ``async_fn(*args)`` as the main task of a new run, and return what it returns
    (or raise what it raises). Returns only when every task of the run has finished.

    ``clock``: the run's clock (default: real time). ``instruments``: ``Instrument``
    objects watching the run. ``strict_exception_groups``: the default for nurseries
    (True: errors always arrive in an exception group). With
    ``restrict_keyboard_interrupt_to_checkpoints``, Control-C is always delivered at the
    main task's next checkpoint rather than wherever it lands. ``random_seed`` fixes the
    scheduler's order within batches (default: the ``NURSERY_SEED`` environment variable,
    else a random seed, shown in ``current_statistics().seed``).
    """
    if _context.in_run():
        raise RuntimeError("nursery.run() cannot be called from inside a run (nested runs)")
    if clock is None:
        clock = SystemClock()
    elif not isinstance(clock, Clock):
        raise TypeError(f"run(clock=...) expected a nursery.abc.Clock, got {clock!r}")
    if random_seed is None:
        env_seed = os.environ.get(SEED_ENV_VAR)
        random_seed = int(env_seed) if env_seed else random.getrandbits(32)
    runner = Runner(clock, Instruments(instruments), bool(strict_exception_groups), random_seed)
    GLOBAL_RUN_CONTEXT.runner = runner
    asyncgen_hooks = AsyncGenHooks(runner)
    runner.asyncgens = asyncgen_hooks
    ki_handler = _KIHandler(runner, restrict_keyboard_interrupt_to_checkpoints)
    try:
        asyncgen_hooks.install()
        ki_handler.install()
        clock.start_clock()
        if "before_run" in runner.instruments:
            runner.instruments.call("before_run")
        runner.init_task = runner.spawn_impl(
            runner.init, (async_fn, args), None, "<init>", system_task=True
        )
        _main_loop(runner)
        if "after_run" in runner.instruments:
            runner.instruments.call("after_run")
    finally:
        ki_handler.uninstall()
        asyncgen_hooks.uninstall()
        runner.close()
        del GLOBAL_RUN_CONTEXT.runner
    result: T = _final_result(runner)
    return result


def _final_result(runner: Runner) -> Any:
    main_outcome = runner.main_task_outcome
    init_outcome = runner.init_task_outcome
    if runner.crashed is not None:
        error = runner.crashed
        if main_outcome is not None and type(main_outcome) is outcome.Error:
            error.__context__ = main_outcome.error
        raise error
    if type(init_outcome) is outcome.Error:
        raise InternalError("internal error in nursery: the init task failed") from (
            init_outcome.error
        )
    assert main_outcome is not None
    if runner.ki_pending:
        ki = KeyboardInterrupt()
        if type(main_outcome) is outcome.Error:
            ki.__context__ = main_outcome.error
        raise ki
    return main_outcome.unwrap()


@mark_task_boundary
def _main_loop(runner: Runner) -> None:
    """Drive the run until no task is left. Also the task boundary for KeyboardInterrupt
    protection: the frame that steps tasks."""
    clock = runner.clock
    deadlines = runner.deadlines
    instruments = runner.instruments
    rand = runner.random.random
    # Two lists take turns as the run queue and the batch being run, each with its
    # append method bound once: binding one per batch shows in a two-task workload.
    queued_append = runner.runq.append
    spare: list[Task] = []
    spare_append = spare.append
    steps_since_poll = POLL_EVERY_STEPS
    # The messages as locals: the step compares against them several times.
    checkpoint_msg = CHECKPOINT
    shielded_checkpoint_msg = SHIELDED_CHECKPOINT
    wait_msg = WAIT

    while runner.tasks:
        if runner.runq:
            # Busy: look for I/O without waiting, and only every POLL_EVERY_STEPS steps.
            if steps_since_poll >= POLL_EVERY_STEPS:
                steps_since_poll = 0
                _poll_io(runner, 0.0)
            if deadlines.heap:
                deadlines.expire(clock.current_time())
        else:
            steps_since_poll = 0
            _wait_for_work(runner)
            if not runner.runq:
                continue

        batch = runner.runq
        batch_append = queued_append
        runner.runq = spare
        queued_append = spare_append
        size = len(batch)
        steps_since_poll += size
        if size > 1 and rand() < 0.5:
            batch.reverse()
        runq_append: Callable[[Task], object]
        if instruments:
            instrumented = True
            runq_append = runner.reschedule_same
        else:
            instrumented = False
            runq_append = queued_append

        # -- the batch: step each task once. The hottest code of the kernel: plain
        # attribute reads, no allocation on the checkpoint path, no function call of
        # its own per step.
        for task in batch:
            runner.current_task = task  # current_task() in before/after_task_step too
            task._schedule_mark = True  # resumed: a schedule point (Task._schedule_points)
            if instrumented and "before_task_step" in instruments:
                instruments.call("before_task_step", task)
            value = task._next_value
            task._next_value = None
            exc = task._next_exc
            if value is checkpoint_msg:
                # A checkpoint's cancel point comes after its schedule point, as in
                # Trio: a deadline that expired, or a cancel(), while the task sat in
                # the run queue is seen now, not at the task's next checkpoint.
                value = None
                if task._cancel_status.effectively_cancelled:
                    exc = make_cancelled(task._cancel_status.cancel_reason())
                elif task._ki_pending:
                    exc = _take_ki(task)
            try:
                if exc is None:
                    msg = task.context.run(task._coro_send, task.coro, value)
                else:
                    task._next_exc = None
                    msg = task.context.run(task.coro.throw, exc)
                    del exc, value
            except StopIteration as stop:
                runner.current_task = None
                runner.task_exited(task, stop.value, None)
            except BaseException as error:
                runner.current_task = None
                # Drop this frame from the traceback: it is the kernel, not the task.
                error.__traceback__ = error.__traceback__.tb_next  # type: ignore[union-attr]
                runner.task_exited(task, None, error)
            else:
                if msg is checkpoint_msg:
                    task._cancel_mark = True
                    task._next_value = checkpoint_msg  # checked for cancellation on resume
                    task.custom_sleep_data = None  # reset on every reschedule, as in Trio
                    runq_append(task)
                elif msg is shielded_checkpoint_msg:
                    task.custom_sleep_data = None
                    runq_append(task)
                elif msg is wait_msg:
                    # The trap put the wait's abort (a function or a wait queue) in the task.
                    task._cancel_mark = True
                    if task._ki_pending or task._cancel_status.effectively_cancelled:
                        # The abort function runs on the kernel's behalf, outside the
                        # task (which has suspended): it may reschedule the task itself.
                        runner.current_task = None
                        if task._ki_pending:
                            task._attempt_delivery_of_pending_ki()
                        else:
                            task._attempt_delivery_of_any_pending_cancel()
                else:
                    task._next_exc = _foreign_yield_error(task, msg)
                    runq_append(task)
            if instrumented and "after_task_step" in instruments:
                runner.current_task = task
                instruments.call("after_task_step", task)
                runner.current_task = None
        runner.current_task = None
        # The finished batch's list becomes the next run queue: no allocation per pass.
        batch.clear()
        spare = batch
        spare_append = batch_append


def _poll_io(runner: Runner, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for I/O, and wake the tasks it concerns."""
    instruments = runner.instruments
    if "before_io_wait" in instruments:
        instruments.call("before_io_wait", timeout)
    events = runner.io.get_events(timeout)
    if "after_io_wait" in instruments:
        instruments.call("after_io_wait", timeout)
    if events:
        runner.io.process_events(events)
        # Worker threads' results (EntryQueue.complete_soon): their eventfd is one of
        # the events whenever there is something new.
        if runner.entry_queue.completions:
            runner.entry_queue.run_completions()


def _wait_for_work(runner: Runner) -> None:
    """Nothing is runnable: sleep in epoll until I/O, the next deadline, or the moment
    idleness counts (``wait_all_tasks_blocked``'s cushion, the mock clock's autojump
    threshold); then fire expired deadlines, and if still nothing is runnable, act on
    the idleness."""
    clock = runner.clock
    deadlines = runner.deadlines
    idle_primed = 0
    timeout = clock.deadline_to_sleep_time(deadlines.next_deadline())
    if timeout < 0:
        timeout = 0.0
    if runner.waiting_for_idle:
        cushion = runner.waiting_for_idle.peekitem(0)[0][0]
        if cushion < timeout:
            timeout = cushion
            idle_primed = _IDLE_WAITERS
    # As in Trio, tasks in wait_all_tasks_blocked() go first: they wake without moving
    # the clock, and the autojump comes once they are done (if it came first it could
    # find nothing to jump to and spin).
    elif runner.clock_autojump_threshold < timeout:
        timeout = runner.clock_autojump_threshold
        idle_primed = _AUTOJUMP
    _poll_io(runner, timeout)
    if deadlines.heap:
        deadlines.expire(clock.current_time())
    if idle_primed and not runner.runq:
        if idle_primed == _IDLE_WAITERS:
            waiting = runner.waiting_for_idle
            cushion = waiting.peekitem(0)[0][0]
            while waiting:
                key, task = waiting.peekitem(0)
                if key[0] != cushion:
                    break
                del waiting[key]
                runner.reschedule_value(task, None)
        else:
            clock._autojump()  # type: ignore[attr-defined]


def _foreign_yield_error(task: Task, msg: object) -> TypeError:
    return TypeError(
        f"{task!r} yielded {msg!r} to the nursery kernel. Only nursery's own primitives "
        "may suspend a task: this usually means code written for asyncio (or another "
        "async framework) was awaited inside nursery.run()"
    )


def _take_ki(task: Task) -> KeyboardInterrupt:
    task._ki_pending = False
    task._runner.ki_pending = False
    return KeyboardInterrupt()


class _KIHandler:
    """Installs the SIGINT handler for the run (main thread, default handler only)."""

    def __init__(self, runner: Runner, restrict_to_checkpoints: bool) -> None:
        self.runner = runner
        self.restrict_to_checkpoints = restrict_to_checkpoints
        self.installed = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.restrict_to_checkpoints or ki_protected_at(frame):
            runner = self.runner
            runner.ki_pending = True
            main = runner.main_task
            if main is not None:
                # Seen by the main task's very next checkpoint; deliver_ki (run soon, in
                # the entry task) wakes it if it is asleep.
                main._ki_pending = True
            runner.entry_queue.run_sync_soon(runner.deliver_ki, idempotent=True)
        else:
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return
        signal.signal(signal.SIGINT, self.handler)
        self.installed = True

    def uninstall(self) -> None:
        if self.installed and signal.getsignal(signal.SIGINT) == self.handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.installed = False


# The loop's own frames are protected: a Control-C landing in them is deferred.
for _fn in (run, _final_result, _take_ki):
    enable_ki_protection(_fn)
del _fn
