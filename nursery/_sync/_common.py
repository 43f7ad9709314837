"""What the primitives share: ``async with`` on top of ``acquire``/``release``, and
argument checks that name the argument they reject."""

from __future__ import annotations

import math
from types import TracebackType
from typing import Protocol

from .._core._ki import enable_ki_protection


class _AcquiresAndReleases(Protocol):
    async def acquire(self) -> object: ...

    def release(self) -> object: ...


class AsyncContextManagerMixin:
    """``async with x:`` acquires on entry (blocking, a checkpoint) and releases on exit
    (never blocking, not a checkpoint), whatever the block raised."""

    __slots__ = ()

    @enable_ki_protection
    async def __aenter__(self: _AcquiresAndReleases) -> None:
        await self.acquire()

    @enable_ki_protection
    async def __aexit__(
        self: _AcquiresAndReleases,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def check_int(value: object, where: str, *, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum``. A bool is refused: ``Semaphore(True)`` is a
    slip, not a count."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where} must be >= {minimum}, got {value!r}")
    return value


def check_int_or_inf(value: object, where: str) -> int | float:
    """``value`` as an int >= 0, or ``math.inf`` (no limit)."""
    if isinstance(value, float) and value == math.inf:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where} must be an int or math.inf, got {value!r}")
    if value < 0:
        raise ValueError(f"{where} must be >= 0 (or math.inf), got {value!r}")
    return value
