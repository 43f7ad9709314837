"""Detects two tasks using one resource at once, for operations (``send_all``,
``receive_some``, ``accept``, ...) that a stream or listener allows one at a time.

Used as a context manager around the whole operation, so that a second task entering
while the first is parked gets ``BusyResourceError`` at once instead of interleaving
its bytes with the first's.
"""

from __future__ import annotations

from types import TracebackType

from ._core._exceptions import BusyResourceError


class ConflictDetector:
    """``with detector:`` marks the resource busy for the block; entering while
    another task is inside raises ``BusyResourceError`` with ``message``."""

    __slots__ = ("_held", "_message")

    def __init__(self, message: str) -> None:
        self._message = message
        self._held = False

    def __enter__(self) -> None:
        if self._held:
            raise BusyResourceError(self._message)
        self._held = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._held = False
