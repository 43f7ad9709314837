"""``nursery_test``: run an async test function under ``nursery.run`` without the plugin
(Trio's ``trio.testing.trio_test``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from .._core._abc import Clock, Instrument
from .._core._loop import run

P = ParamSpec("P")
T = TypeVar("T")


def nursery_test(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Turn an async test function into a synchronous one that runs it in a fresh
    ``nursery.run`` and returns its result.

    Keyword arguments (pytest fixtures, say) that are clocks or instruments configure
    the run: a ``Clock`` becomes its ``clock=`` (more than one is a ``ValueError``),
    and every ``Instrument`` is installed. All arguments are still passed on to ``fn``.
    """

    @functools.wraps(fn)
    def run_test(*args: P.args, **kwargs: P.kwargs) -> T:
        __tracebackhide__ = True
        clocks = [value for value in kwargs.values() if isinstance(value, Clock)]
        if len(clocks) > 1:
            raise ValueError(
                f"nursery_test: a run has one clock, but {fn.__name__} was given "
                f"{len(clocks)}: {clocks!r}"
            )
        instruments = [value for value in kwargs.values() if isinstance(value, Instrument)]
        return run(
            functools.partial(fn, *args, **kwargs),
            clock=clocks[0] if clocks else None,
            instruments=instruments,
        )

    return run_test
