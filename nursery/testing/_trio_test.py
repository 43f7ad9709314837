"""``trio_test``: a decorator that turns an async test function into a synchronous one
that runs it under ``nursery.run`` (kept under Trio's name, for ported test suites)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from .._core._abc import Clock, Instrument
from .._core._loop import run

P = ParamSpec("P")
T = TypeVar("T")


def trio_test(fn: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Wrap the async function ``fn`` so that calling the wrapper runs it in a new run.

    Any keyword argument that is a ``nursery.abc.Clock`` becomes the run's clock (at
    most one: two clocks are a ``ValueError``), and every one that is an ``Instrument``
    is installed in the run; all of them are also passed on to ``fn``.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        clocks = [value for value in kwargs.values() if isinstance(value, Clock)]
        if len(clocks) > 1:
            raise ValueError(
                f"trio_test: {fn.__qualname__} got {len(clocks)} Clock arguments; "
                "a run has only one clock"
            )
        instruments = [value for value in kwargs.values() if isinstance(value, Instrument)]

        async def call() -> T:
            return await fn(*args, **kwargs)

        return run(call, clock=clocks[0] if clocks else None, instruments=instruments)

    return wrapper
