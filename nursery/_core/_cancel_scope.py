"""Where cancellation starts: ``CancelScope``, its deadline, ``cancel()``, and the
exception filtering at its exit. How a cancellation reaches tasks is ``_cancel_status``."""

from __future__ import annotations

import math
from types import TracebackType
from typing import TYPE_CHECKING, final

from . import _context
from ._cancel_status import CancelStatus, recalculate
from ._exceptions import Cancelled, CancelReason
from ._ki import enable_ki_protection
from ._util import Final

if TYPE_CHECKING:
    from typing import Self

    from ._runner import Runner

_get_task_hint = _context.get_task_hint
_inf = math.inf
_isnan = math.isnan

MISNESTING_ADVICE = (
    "This is probably a bug in your code: a cancel scope or nursery was exited in a "
    "different order than it was entered, or across a 'yield' of a generator that another "
    "task resumed. Make sure each 'with' / 'async with' block is entered and exited by the "
    "same task, in order."
)


@final
class CancelScope(metaclass=Final):
    """A region of code that can be cancelled as a unit, explicitly with ``cancel()`` or
    by a deadline.

    ``deadline`` (absolute, on the run's clock), ``relative_deadline`` (seconds counted
    from when the scope is entered) and ``shield`` may be set in the constructor or at any
    time later, and take effect at once. A scope can be cancelled before it is entered,
    and is used for a single ``with`` block.
    """

    __slots__ = (
        "__weakref__",
        "_cancel_called",
        "_cancel_reason",
        "_cancel_status",
        "_deadline",
        "_deadline_seq",
        "_has_been_entered",
        "_relative_deadline",
        "_runner",
        "_shield",
        "cancelled_caught",
    )

    def __init__(
        self, *, deadline: float = _inf, relative_deadline: float = _inf, shield: bool = False
    ) -> None:
        if _isnan(deadline):
            raise ValueError("CancelScope(deadline=...) must not be NaN")
        if _isnan(relative_deadline):
            raise ValueError("CancelScope(relative_deadline=...) must not be NaN")
        if relative_deadline < 0:
            raise ValueError(
                "CancelScope(relative_deadline=...) must be non-negative, "
                f"got {relative_deadline!r}"
            )
        if deadline != _inf and relative_deadline != _inf:
            raise ValueError("CancelScope() takes either deadline= or relative_deadline=, not both")
        self._deadline = deadline
        self._relative_deadline = relative_deadline
        self._shield = shield
        self._cancel_called = False
        self._cancel_reason: CancelReason | None = None
        self._cancel_status: CancelStatus | None = None
        self._has_been_entered = False
        self._deadline_seq = 0
        self._runner: Runner | None = None
        self.cancelled_caught = False

    def __repr__(self) -> str:
        if self._cancel_status is not None:
            state = "active"
        elif self._has_been_entered:
            state = "exited"
        else:
            state = "unbound"
        if self._cancel_called:
            state += ", cancelled"
        if self._deadline != _inf:
            state += f", deadline={self._deadline:.3f}"
        return f"<CancelScope at {id(self):#x}, {state}>"

    # -- entering and leaving ------------------------------------------------------

    @enable_ki_protection
    def __enter__(self) -> Self:
        task = _context.current_task()
        if self._has_been_entered:
            raise RuntimeError("Each CancelScope may only be used for a single 'with' block")
        self._has_been_entered = True
        runner = task._runner
        self._runner = runner
        if self._relative_deadline != _inf:
            now = runner.clock.current_time()
            self._deadline = now + self._relative_deadline
            self._relative_deadline = _inf
        elif self._deadline != _inf:
            now = runner.clock.current_time()
        if self._deadline != _inf:
            if now >= self._deadline:
                self._cancel_called = True
                self._cancel_reason = CancelReason("deadline")
            else:
                runner.deadlines.add(self._deadline, self)
        status = CancelStatus(self, task._cancel_status)
        self._cancel_status = status
        # The task is running, so no wait of its own can need a cancel delivered.
        task._cancel_status.tasks.discard(task)
        task._cancel_status = status
        status.tasks.add(task)
        return self

    @enable_ki_protection
    def __exit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        status = self._cancel_status
        if exc is None and status is not None and not status.children:
            # The common case, kept short: leaving normally, properly nested.
            task = _get_task_hint()
            if (
                task is not None
                and task._cancel_status is status
                and task._runner.current_task is task
            ):
                # Only the root's status has no parent, and no scope owns the root's.
                parent: CancelStatus = status.parent  # type: ignore[assignment]
                status.tasks.discard(task)
                task._cancel_status = parent
                parent.tasks.add(task)
                parent.children.discard(status)
                if self._deadline_seq:
                    self._runner.deadlines.remove(self)  # type: ignore[union-attr]
                self._cancel_status = None
                return False
        remaining = self._close(exc)
        if remaining is None:
            return True
        if remaining is exc:
            return False
        # The exception changed (Cancelled stripped out of a group, or a misnesting
        # error): raise the new one while keeping the context it already had, rather
        # than letting Python chain the old exception into it.
        context = remaining.__context__
        try:
            raise remaining
        finally:
            remaining.__context__ = context
            del remaining, context

    def _close(self, exc: BaseException | None) -> BaseException | None:
        """Leave the scope; return what should propagate out of it."""
        status = self._cancel_status
        if status is None:
            error = RuntimeError(
                f"Cancel scope stack corrupted: attempted to exit {self!r}, which is not "
                f"active (never entered, or already exited)\n{MISNESTING_ADVICE}"
            )
            error.__context__ = exc
            return error
        task = _context.current_task()
        if task._cancel_status is not status and not status.abandoned:
            if not status.encloses(task._cancel_status):
                error = RuntimeError(
                    f"Cancel scope stack corrupted: attempted to exit {self!r} from "
                    f"{task!r}, which is not inside it\n{MISNESTING_ADVICE}"
                )
                error.__context__ = exc
                return error
            # Inner scopes are still open: abandon them, so that their own exits are
            # quiet, and cancel them so the code still inside unwinds.
            inner = task._cancel_status
            error = RuntimeError(
                f"Cancel scope stack corrupted: attempted to exit {self!r} in {task!r} "
                f"while its inner scope {inner.scope!r} was still open\n{MISNESTING_ADVICE}"
            )
            error.__context__ = exc
            exc = error
            while inner is not status:
                inner.abandoned = True
                inner.scope._cancel(CancelReason("unknown", "misnesting"))
                inner = inner.parent  # type: ignore[assignment]
        if task._cancel_status is status:
            task._activate_cancel_status(status.parent)  # type: ignore[arg-type]
        if (
            exc is not None
            and status.effectively_cancelled
            and not status.parent_cancellation_is_visible_to_us
        ):
            if isinstance(exc, Cancelled):
                self.cancelled_caught = True
                exc = None
            elif isinstance(exc, BaseExceptionGroup):
                found, exc = strip_cancelled(exc)
                if found:
                    self.cancelled_caught = True
        status.close()
        if self._deadline_seq:
            self._runner.deadlines.remove(self)  # type: ignore[union-attr]
        self._cancel_status = None
        return exc

    # -- cancelling --------------------------------------------------------------------

    @enable_ki_protection
    def cancel(self, reason: str | None = None) -> None:
        """Cancel this scope now. Idempotent. ``reason`` is attached to every
        ``Cancelled`` this causes, to tell where it came from."""
        if self._cancel_called:
            return
        task = _context.current_task_or_none()
        self._cancel(CancelReason("explicit", reason, None if task is None else repr(task)))

    def _cancel(self, reason: CancelReason) -> None:
        if self._cancel_called:
            return
        self._cancel_called = True
        self._cancel_reason = reason
        if self._deadline_seq:
            self._runner.deadlines.remove(self)  # type: ignore[union-attr]
        if self._cancel_status is not None:
            recalculate(self._cancel_status)

    def _deadline_expired(self) -> None:
        self._cancel(CancelReason("deadline"))

    @property
    def cancel_called(self) -> bool:
        """Whether ``cancel()`` was called or the deadline passed. It does not say whether
        any code was actually interrupted: see ``cancelled_caught`` for that."""
        if (
            not self._cancel_called
            and self._deadline != _inf
            and (self._cancel_status is not None or not self._has_been_entered)
            and _context.in_run()
            and _context.current_runner().clock.current_time() >= self._deadline
        ):
            self._cancel(CancelReason("deadline"))
        return self._cancel_called

    # -- deadlines and shielding -------------------------------------------------------

    @property
    def deadline(self) -> float:
        """Absolute deadline on the run's clock (``math.inf`` for none). Reading it on a
        scope that was created with ``relative_deadline`` and not entered yet is a
        ``RuntimeError``: its deadline is not fixed until it is entered."""
        if self._relative_deadline != _inf:
            raise RuntimeError(
                "this CancelScope has a relative deadline, which becomes absolute only "
                "when the scope is entered; read relative_deadline instead"
            )
        return self._deadline

    @deadline.setter
    def deadline(self, new_deadline: float) -> None:
        new_deadline = float(new_deadline)
        if _isnan(new_deadline):
            raise ValueError("CancelScope.deadline must not be NaN")
        if self._relative_deadline != _inf:
            raise RuntimeError(
                "this CancelScope has a relative deadline and was not entered yet; "
                "set relative_deadline, or create the scope with deadline= instead"
            )
        self._set_deadline(new_deadline)

    @property
    def relative_deadline(self) -> float:
        """Seconds until the deadline: counted from now once entered, from the moment of
        entering before that."""
        if self._has_been_entered:
            return self._deadline - _context.current_runner().clock.current_time()
        if self._deadline != _inf:
            raise RuntimeError(
                "this CancelScope has an absolute deadline and was not entered yet, so it "
                "has no relative deadline"
            )
        return self._relative_deadline

    @relative_deadline.setter
    def relative_deadline(self, new_relative_deadline: float) -> None:
        new_relative_deadline = float(new_relative_deadline)
        if _isnan(new_relative_deadline):
            raise ValueError("CancelScope.relative_deadline must not be NaN")
        if new_relative_deadline < 0:
            raise ValueError(
                f"CancelScope.relative_deadline must be non-negative, got {new_relative_deadline!r}"
            )
        if self._has_been_entered:
            now = _context.current_runner().clock.current_time()
            self._set_deadline(now + new_relative_deadline)
        elif self._deadline != _inf:
            raise RuntimeError(
                "this CancelScope has an absolute deadline and was not entered yet; "
                "set deadline instead"
            )
        else:
            self._relative_deadline = new_relative_deadline

    @property
    def is_relative(self) -> bool | None:
        """``None`` once entered; before that, whether the deadline is relative."""
        if self._has_been_entered:
            return None
        return self._relative_deadline != _inf

    def _set_deadline(self, new_deadline: float) -> None:
        self._deadline = new_deadline
        if self._cancel_status is None or self._cancel_called:
            return
        runner = self._runner
        assert runner is not None
        if runner.clock.current_time() >= new_deadline:
            self._cancel(CancelReason("deadline"))
        elif new_deadline == _inf:
            runner.deadlines.remove(self)
        else:
            runner.deadlines.add(new_deadline, self)

    @property
    def shield(self) -> bool:
        """While true, cancellations from outside this scope do not reach the code inside
        it (cancelling this scope itself still does)."""
        return self._shield

    @shield.setter
    @enable_ki_protection
    def shield(self, new_value: bool) -> None:
        if not isinstance(new_value, bool):
            raise TypeError(f"CancelScope.shield must be a bool, got {new_value!r}")
        self._shield = new_value
        if self._cancel_status is not None:
            recalculate(self._cancel_status)


# Set on a group known to hold no Cancelled anywhere inside. Groups are immutable, so
# the mark stays true; it keeps a leaf error climbing a deep chain of nurseries (each
# stripping Cancelled on the way) linear rather than quadratic.
_CLEAN_MARK = "_nursery_holds_no_cancelled"
# Marks the groups of nurseries with strict_exception_groups=False: once the Cancelled
# are stripped from one, a lone remaining error comes out unwrapped, as Trio does.
NONSTRICT_NOTE = "nursery: this group came from a nursery with strict_exception_groups=False"


def strip_cancelled(group: BaseExceptionGroup[BaseException]) -> tuple[bool, BaseException | None]:
    """Remove every ``Cancelled`` from ``group`` and its nested groups.

    Returns whether any was found, and what is left: the group itself when nothing changed,
    a derived group (keeping traceback, cause, context and notes) when some leaves went, or
    ``None`` when nothing is left. Walks with an explicit stack, so a group nested
    thousands deep (one level a nursery) is handled at any recursion limit, unlike
    ``BaseExceptionGroup.split``.
    """
    found = False
    result: BaseException | None = None
    # Each frame: [group, index of next child, kept children, changed?]
    stack: list[list[object]] = [[group, 0, [], False]]
    while stack:
        frame = stack[-1]
        current: BaseExceptionGroup[BaseException] = frame[0]  # type: ignore[assignment]
        index: int = frame[1]  # type: ignore[assignment]
        kept: list[BaseException] = frame[2]  # type: ignore[assignment]
        if index < len(current.exceptions):
            frame[1] = index + 1
            child = current.exceptions[index]
            if isinstance(child, Cancelled):
                found = True
                frame[3] = True
            elif isinstance(child, BaseExceptionGroup) and not getattr(child, _CLEAN_MARK, False):
                stack.append([child, 0, [], False])
            else:
                kept.append(child)
            continue
        stack.pop()
        rebuilt: BaseException | None
        if not frame[3]:
            rebuilt = current
            setattr(current, _CLEAN_MARK, True)
        elif len(kept) == 1 and NONSTRICT_NOTE in getattr(current, "__notes__", ()):
            rebuilt = kept[0]
        elif kept:
            rebuilt = current.derive(kept)
            setattr(rebuilt, _CLEAN_MARK, True)
            rebuilt.__cause__ = current.__cause__
            rebuilt.__context__ = current.__context__
            rebuilt.__traceback__ = current.__traceback__
            notes = getattr(current, "__notes__", None)
            if notes is not None:
                rebuilt.__notes__ = list(notes)
        else:
            rebuilt = None
        if stack:
            parent = stack[-1]
            if rebuilt is not current:
                parent[3] = True
            if rebuilt is not None:
                parent[2].append(rebuilt)  # type: ignore[attr-defined]
        else:
            result = rebuilt
    return found, result
