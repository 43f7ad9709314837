"""Timeouts as cancel scopes: ``move_on_*`` gives up quietly, ``fail_*`` raises
``TooSlowError``."""

from __future__ import annotations

import math
from types import TracebackType
from typing import final

from ._core._cancel_scope import CancelScope


class TooSlowError(Exception):
    """A ``fail_after`` / ``fail_at`` block ran past its deadline."""


def _check_seconds(seconds: float, where: str) -> None:
    if math.isnan(seconds):
        raise ValueError(f"{where}: seconds must not be NaN")
    if seconds < 0:
        raise ValueError(f"{where}: seconds must be >= 0, got {seconds!r}")


def move_on_at(deadline: float, *, shield: bool = False) -> CancelScope:
    """A cancel scope cancelled at ``deadline`` (on the run's clock): the block is
    abandoned and execution goes on after it. Check ``scope.cancelled_caught`` to see
    whether it timed out."""
    if math.isnan(deadline):
        raise ValueError("move_on_at(deadline): deadline must not be NaN")
    return CancelScope(deadline=deadline, shield=shield)


def move_on_after(seconds: float, *, shield: bool = False) -> CancelScope:
    """Like ``move_on_at``, ``seconds`` after the block is entered."""
    _check_seconds(seconds, "move_on_after()")
    return CancelScope(relative_deadline=seconds, shield=shield)


@final
class _FailScope:
    """The context manager of ``fail_at`` / ``fail_after``: yields its cancel scope and
    turns a cancellation it caught into ``TooSlowError``."""

    __slots__ = ("_scope",)

    def __init__(self, scope: CancelScope) -> None:
        self._scope = scope

    def __enter__(self) -> CancelScope:
        return self._scope.__enter__()

    def __exit__(
        self,
        etype: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        swallowed = self._scope.__exit__(etype, exc, tb)
        if self._scope.cancelled_caught:
            error = TooSlowError("the block did not finish before its deadline")
            try:
                raise error
            finally:
                # The Cancelled it replaces is an implementation detail, not a cause.
                error.__context__ = None
                del error
        return swallowed


def fail_at(deadline: float, *, shield: bool = False) -> _FailScope:
    """A cancel scope with ``deadline`` that raises ``TooSlowError`` if the deadline
    cancelled the block (``with fail_at(d) as scope:``)."""
    return _FailScope(move_on_at(deadline, shield=shield))


def fail_after(seconds: float, *, shield: bool = False) -> _FailScope:
    """Like ``fail_at``, ``seconds`` after the block is entered."""
    _check_seconds(seconds, "fail_after()")
    return _FailScope(CancelScope(relative_deadline=seconds, shield=shield))
