"""Nurseries: where tasks are born and where their errors go.

A nursery block does not exit until every child has; the block's own body counts as one
more child. The first error (from a child or from the body) cancels the nursery's scope,
so the siblings unwind, and every error is collected into one ``BaseExceptionGroup``
that leaves the ``async with``. Children run inside the cancel scopes that were open where
the nursery was opened (their cancel status hangs below the nursery's scope).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, final

from . import _context
from ._cancel_scope import MISNESTING_ADVICE, NONSTRICT_NOTE, CancelScope
from ._cancel_status import CancelStatus, recalculate
from ._exceptions import Cancelled, CancelReason, InternalError
from ._ki import enable_ki_protection
from ._traps import (
    SHIELDED_CHECKPOINT_TRAP,
    Abort,
    RaiseCancelT,
    suspend_task,
)
from ._util import NoPublicConstructor, reject_non_callable

if TYPE_CHECKING:
    from ._task import Task

StatusT = TypeVar("StatusT")
StatusT_contra = TypeVar("StatusT_contra", contravariant=True)


def _describe(exc: BaseException) -> str:
    """A one-line description of ``exc`` that stays shallow: the repr of a group nested
    thousands deep (one level a nursery) would exhaust the recursion limit."""
    if isinstance(exc, BaseExceptionGroup):
        return f"{type(exc).__name__}({exc.message!r}, {len(exc.exceptions)} sub-exception(s))"
    return repr(exc)


class TaskStatus(Protocol[StatusT_contra]):
    """What ``Nursery.start`` passes as ``task_status=``: call ``started(value)`` once the
    task is ready, and ``start()`` returns ``value``."""

    def started(self, value: StatusT_contra | None = None) -> None: ...


@final
class _IgnoredTaskStatus:
    __slots__ = ()

    def started(self, value: object = None) -> None:
        pass

    def __repr__(self) -> str:
        return "TASK_STATUS_IGNORED"


TASK_STATUS_IGNORED: TaskStatus[Any] = _IgnoredTaskStatus()
"""The default ``task_status`` of a function that may be started with ``start()``: its
``started()`` does nothing, so the same function also works with ``start_soon()``."""

_NO_VALUE: Any = object()


@final
class _TaskStatus(Generic[StatusT]):
    __slots__ = ("_new_nursery", "_old_nursery", "_value")

    def __init__(self, old_nursery: Nursery, new_nursery: Nursery) -> None:
        self._old_nursery = old_nursery
        self._new_nursery = new_nursery
        self._value: Any = _NO_VALUE

    def __repr__(self) -> str:
        return f"<TaskStatus for start() into {self._new_nursery!r} at {id(self):#x}>"

    @enable_ki_protection
    def started(self, value: StatusT | None = None) -> None:
        if self._value is not _NO_VALUE:
            raise RuntimeError("task_status.started() was called twice for the same start()")
        self._value = value
        old = self._old_nursery
        # If start() was cancelled, leave the child where it is: it is unwinding, and
        # moving it would carry its Cancelled to a place with no cancelled scope.
        if old._cancel_status.effectively_cancelled:
            return
        new = self._new_nursery
        if new._closed:
            raise RuntimeError("the nursery passed to start() closed before started() was called")
        # Hand the children (the started task, and anything it spawned into the private
        # nursery) over to the real nursery, cancel statuses included.
        for task in old._children:
            task._parent_nursery = new
            task.eventual_parent_nursery = None
            new._children.add(task)
        old._children = set()
        new_status = new._cancel_status
        for child in list(old._cancel_status.children):
            old._cancel_status.children.discard(child)
            child.parent = new_status
            new_status.children.add(child)
            recalculate(child)
        for task in list(old._cancel_status.tasks):
            if task is not old._parent_task:
                task._activate_cancel_status(new_status)
        old._check_nursery_closed()


@final
class Nursery(metaclass=NoPublicConstructor):
    """Where child tasks run. Get one with ``async with open_nursery() as nursery``."""

    __slots__ = (
        "__weakref__",
        "_cancel_status",
        "_children",
        "_closed",
        "_holds_cancelled",
        "_nested_child_running",
        "_parent_task",
        "_parent_waiting_in_aexit",
        "_pending_excs",
        "_pending_starts",
        "_strict_exception_groups",
        "cancel_scope",
    )

    def __init__(
        self, parent_task: Task, cancel_scope: CancelScope, strict_exception_groups: bool
    ) -> None:
        self._parent_task = parent_task
        self.cancel_scope = cancel_scope
        self._cancel_status: CancelStatus = cancel_scope._cancel_status  # type: ignore[assignment]
        self._strict_exception_groups = strict_exception_groups
        self._children: set[Task] = set()
        self._pending_excs: list[BaseException] = []
        self._nested_child_running = True
        self._parent_waiting_in_aexit = False
        self._pending_starts = 0
        self._holds_cancelled = False
        self._closed = False
        open_nurseries = parent_task._child_nurseries
        if open_nurseries:
            open_nurseries.append(self)
        else:
            # The task's first: it starts with a shared empty tuple (see Task).
            parent_task._child_nurseries = [self]

    def __repr__(self) -> str:
        return f"<Nursery of {self._parent_task!r} at {id(self):#x}>"

    @property
    def child_tasks(self) -> frozenset[Task]:
        """The tasks running in this nursery now (not counting the body)."""
        return frozenset(self._children)

    @property
    def parent_task(self) -> Task:
        """The task that opened this nursery."""
        return self._parent_task

    def _add_exc(self, exc: BaseException, source_task: Task, where: str) -> None:
        self._pending_excs.append(exc)
        if not self.cancel_scope._cancel_called:
            # Formatted once per nursery, not once per failing child.
            self.cancel_scope._cancel(
                CancelReason("nursery", f"{where} raised {_describe(exc)}", repr(source_task))
            )

    def _check_nursery_closed(self) -> None:
        if not (self._nested_child_running or self._children or self._pending_starts):
            self._closed = True
            if self._parent_waiting_in_aexit:
                self._parent_waiting_in_aexit = False
                self._parent_task._runner.reschedule_value(self._parent_task, None)

    @enable_ki_protection
    def _child_finished(self, task: Task, error: BaseException | None) -> None:
        self._children.discard(task)
        if error is not None:
            if type(error) is Cancelled and self._holds_cancelled:
                # Every Cancelled leaving a child of this nursery is caught by the same
                # scope (the outermost cancelled one visible from here), so one stands
                # for all: cancelling 10,000 children builds no 10,000-member group and
                # keeps no 10,000 tracebacks alive.
                pass
            else:
                if type(error) is Cancelled:
                    self._holds_cancelled = True
                self._add_exc(error, task, "child task")
        self._check_nursery_closed()

    @enable_ki_protection
    async def _nested_child_finished(
        self, nested_child_exc: BaseException | None
    ) -> BaseException | None:
        """The body is done: wait for the children, then say what should propagate."""
        if nested_child_exc is not None:
            self._add_exc(nested_child_exc, self._parent_task, "the nursery's body")
        self._nested_child_running = False
        self._check_nursery_closed()
        if not self._closed:
            # Cancellation while waiting is not an error of ours: the children are in the
            # same scope and unwind by themselves. A KeyboardInterrupt is kept, and
            # cancels the children.
            def aborted(raise_cancel: RaiseCancelT) -> Abort:
                exc = raise_cancel.make()  # type: ignore[attr-defined]
                if not isinstance(exc, Cancelled):
                    self._pending_excs.append(exc)
                    self.cancel_scope._cancel(
                        CancelReason("KeyboardInterrupt", None, repr(self._parent_task))
                    )
                return Abort.FAILED

            self._parent_waiting_in_aexit = True
            await suspend_task(self._parent_task, aborted)
        else:
            # No children to wait for: still a schedule point, but not a cancel point.
            try:
                await SHIELDED_CHECKPOINT_TRAP
            except BaseException as exc:
                self._pending_excs.append(exc)
        open_nurseries = self._parent_task._child_nurseries
        assert isinstance(open_nurseries, list)  # this nursery is in it
        popped = open_nurseries.pop()
        assert popped is self
        if not self._pending_excs:
            return None
        excs, self._pending_excs = self._pending_excs, []
        if not self._strict_exception_groups and len(excs) == 1:
            return excs[0]
        group = BaseExceptionGroup("Exceptions from a nursery", excs)
        if not self._strict_exception_groups:
            group.add_note(NONSTRICT_NOTE)
        return group

    @enable_ki_protection
    def start_soon(
        self,
        async_fn: Callable[..., Coroutine[Any, Any, object]],
        *args: object,
        name: object = None,
    ) -> None:
        """Start ``async_fn(*args)`` as a child task, now; it first runs at the next
        scheduling batch. Not a checkpoint. ``name`` labels the task (any object; its
        str() is used); it defaults to the function's qualified name."""
        self._parent_task._runner.spawn_impl(async_fn, args, self, name)

    @enable_ki_protection
    async def start(
        self,
        async_fn: Callable[..., Awaitable[object]],
        *args: object,
        name: object = None,
    ) -> Any:
        """Start ``async_fn(*args, task_status=...)`` and wait until it calls
        ``task_status.started(value)``; return ``value``.

        Until then the child runs inside ``start()`` (in the caller's cancel scopes, so
        cancelling ``start()`` cancels it); from then on it is a child of this nursery.
        An exception the child raises before ``started()`` comes out of ``start()``
        as it is. A child that returns without calling ``started()`` is a RuntimeError.
        """
        reject_non_callable(async_fn, "start()")
        if self._closed:
            raise RuntimeError("this nursery is closed to new tasks")
        try:
            self._pending_starts += 1
            try:
                async with open_nursery(strict_exception_groups=True) as old_nursery:
                    task_status: _TaskStatus[Any] = _TaskStatus(old_nursery, self)
                    thunk = functools.partial(async_fn, task_status=task_status)
                    task = self._parent_task._runner.spawn_impl(
                        thunk,  # type: ignore[arg-type]  # checked when called
                        args,
                        old_nursery,
                        name,
                        name_from=async_fn,
                        what="start()",
                    )
                    task.eventual_parent_nursery = self
            except BaseExceptionGroup as group:
                if len(group.exceptions) == 1:
                    # Re-raised as it was: its own __cause__ and __context__ kept, not
                    # chained to the group it travelled in.
                    error = group.exceptions[0]
                    context = error.__context__
                    try:
                        raise error
                    finally:
                        error.__context__ = context
                        del error, context
                raise InternalError(
                    "start() got several exceptions from the task it was starting"
                ) from group
            if task_status._value is _NO_VALUE:
                raise RuntimeError("the task given to start() exited without calling started()")
            return task_status._value
        finally:
            self._pending_starts -= 1
            self._check_nursery_closed()


@final
class NurseryManager:
    """The async context manager ``open_nursery()`` returns."""

    __slots__ = ("_nursery", "_scope", "_strict_exception_groups")

    def __init__(self, strict_exception_groups: bool | None) -> None:
        self._strict_exception_groups = strict_exception_groups

    @enable_ki_protection
    async def __aenter__(self) -> Nursery:
        task = _context.current_task()
        strict = self._strict_exception_groups
        if strict is None:
            strict = task._runner.strict_exception_groups
        self._scope = CancelScope()
        self._scope.__enter__()
        self._nursery = Nursery._create(task, self._scope, strict)
        return self._nursery

    @enable_ki_protection
    async def __aexit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        parent = self._nursery._parent_task
        task = _context.current_task()
        if task is not parent:
            # Exited by another task (an AsyncExitStack handed over, a generator resumed
            # elsewhere): waiting here for the children would wait for a wake-up that
            # goes to the task that opened the nursery, which may be long gone.
            error = RuntimeError(
                f"Nursery stack corrupted: a nursery opened in {parent!r} was exited in "
                f"{task!r}\n{MISNESTING_ADVICE}"
            )
            error.__context__ = exc
            raise error
        new_exc = await self._nursery._nested_child_finished(exc)
        error_from_nursery = self._scope._close(new_exc)
        if error_from_nursery is None:
            return True
        context = error_from_nursery.__context__
        try:
            raise error_from_nursery
        finally:
            error_from_nursery.__context__ = context
            # This frame must not keep what it raises (nor what it was handed): the
            # error's traceback holds the frame, and a frame holding the error back
            # would be a reference cycle, garbage for the collector to find.
            del error_from_nursery, context, new_exc, exc, tb

    def __enter__(self) -> None:
        raise RuntimeError("use 'async with open_nursery()', not 'with open_nursery()'")

    def __exit__(self, *args: object) -> None:  # pragma: no cover - __enter__ raised
        raise AssertionError("never called")


def open_nursery(strict_exception_groups: bool | None = None) -> NurseryManager:
    """Open a nursery: ``async with open_nursery() as nursery:``.

    ``strict_exception_groups`` (default: the run's setting, itself True by default)
    makes errors always arrive wrapped in a ``BaseExceptionGroup``; when false, a single
    error comes out unwrapped (not recommended: code catching it breaks as soon as two
    errors happen together).
    """
    return NurseryManager(strict_exception_groups)
