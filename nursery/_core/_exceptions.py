"""The exceptions the kernel raises, and the record of where a cancellation came from."""

from __future__ import annotations

from typing import Literal, final

import attrs

from ._util import NoPublicConstructor

CancelSource = Literal[
    "KeyboardInterrupt", "deadline", "explicit", "nursery", "shutdown", "unknown"
]


@attrs.frozen
class CancelReason:
    """Why a cancel scope was cancelled: recorded once per scope, shared by every
    ``Cancelled`` raised on its behalf, so the per-task cancel path formats nothing."""

    source: CancelSource
    reason: str | None = None
    source_task: str | None = None


_UNKNOWN = CancelReason("unknown")


@final
class Cancelled(BaseException, metaclass=NoPublicConstructor):
    """Raised at a checkpoint inside a cancelled scope.

    Let it propagate: the cancel scope that was cancelled catches it. It derives from
    ``BaseException`` so that ``except Exception`` does not swallow it by accident. Users
    cannot construct it; cancel a ``CancelScope`` instead.
    """

    __slots__ = ("_cancel_reason",)
    _cancel_reason: CancelReason  # set by make_cancelled, the only way to build one

    @property
    def source(self) -> CancelSource:
        """What started the cancellation: ``"deadline"``, ``"explicit"`` (``cancel()``),
        ``"nursery"`` (a failing sibling), ``"KeyboardInterrupt"``, ``"shutdown"`` (the run
        is ending) or ``"unknown"``."""
        return self._cancel_reason.source

    @property
    def reason(self) -> str | None:
        """The reason passed to ``cancel()``, or a description the kernel made."""
        return self._cancel_reason.reason

    @property
    def source_task(self) -> str | None:
        """``repr()`` of the task that caused the cancellation, where one did."""
        return self._cancel_reason.source_task

    def __str__(self) -> str:
        text = f"cancelled due to {self.source}"
        if self.reason is not None:
            text += f" with reason {self.reason!r}"
        if self.source_task is not None:
            text += f" from task {self.source_task}"
        return text

    def __repr__(self) -> str:
        return (
            f"Cancelled(source={self.source!r}, reason={self.reason!r}, "
            f"source_task={self.source_task!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_cancelled, (self._cancel_reason,))


def make_cancelled(reason: CancelReason) -> Cancelled:
    """The kernel's way to build a ``Cancelled``: one allocation, no ``__init__`` call
    (this runs once for every task a cancellation reaches)."""
    exc: Cancelled = _new_exception(Cancelled)
    exc._cancel_reason = reason
    return exc


_new_exception = BaseException.__new__


def _rebuild_cancelled(reason: CancelReason) -> Cancelled:
    return make_cancelled(reason)


class InternalError(Exception):
    """A bug in nursery itself, or a system task that crashed: the run cannot go on."""


class RunFinishedError(RuntimeError):
    """The run this refers to has already finished."""


class WouldBlock(Exception):
    """A ``*_nowait`` operation could not complete without blocking."""


class BusyResourceError(Exception):
    """Two tasks tried to use a resource that allows one user at a time (say, two tasks
    waiting to read the same socket)."""


class ClosedResourceError(Exception):
    """The resource was closed, by this task or by another one while it was in use."""


class BrokenResourceError(Exception):
    """The resource is broken: the other end went away, or its state is unusable."""


class EndOfChannel(Exception):
    """Every sender of the channel closed it: no more items will arrive."""


class NurseryDeprecationWarning(FutureWarning):
    """Warns that nursery functionality you use is deprecated and will go away.

    A ``FutureWarning`` rather than a ``DeprecationWarning``: Python shows those by
    default, so end users see the warning, not only developers running tests. (Trio's
    ``TrioDeprecationWarning``, under a name without "trio".)
    """
