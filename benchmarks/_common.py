"""Helpers shared by the workload modules (imported inside worker processes).

Nothing here imports asyncio, trio or nursery at module level: a worker measuring one
implementation must not pay for (or have its GC traverse) another one's modules.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Awaitable, Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")

# One measured round of a workload: metric name -> value (e.g. {"us_per_op": 3.2}).
Sample = dict[str, float]

# Used as "practically forever" for sleeps and deadlines. Finite on purpose: every
# implementation then has a real timer to register, which is what the workloads
# mean by a *sleeping* task (as opposed to one parked on an event).
FOREVER_SECONDS = 1_000_000.0


class BenchmarkCheckError(RuntimeError):
    """A workload's self-check failed: the timing it produced would be meaningless."""


def expect(actual: object, expected: object, what: str) -> None:
    """Raise BenchmarkCheckError unless ``actual == expected``.

    Not ``assert``: the checks must survive ``python -O``.
    """
    if actual != expected:
        raise BenchmarkCheckError(f"{what}: expected {expected!r}, got {actual!r}")


def load_trio_api(name: str) -> ModuleType:
    """Import a library with Trio's API ("trio" or "nursery"), including ``.lowlevel``.

    ``lowlevel`` is imported explicitly because a package is free to not import its
    submodules from ``__init__``; Trio happens to, nursery may not.
    """
    lib = importlib.import_module(name)
    importlib.import_module(f"{name}.lowlevel")
    return lib


def run_asyncio(main: Callable[[], Coroutine[Any, Any, T]], loop: str) -> T:
    """Run ``main()`` on the stock asyncio loop or on uvloop (``loop`` is the impl name)."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main())
    if loop != "asyncio":
        raise ValueError(f"unknown asyncio loop {loop!r}")
    import asyncio

    return asyncio.run(main())


async def timed_rounds(
    one_round: Callable[[int], Awaitable[float]], size: int, rounds: int
) -> list[float]:
    """Warm up with a tenth-size round, then return the seconds of ``rounds`` full rounds.

    The warm-up lets lazily built state (code caches, free lists, growing internal
    lists) settle so the first timed round is not penalised. Garbage is collected
    before each round so no round pays for the previous round's cycles.
    """
    await one_round(max(1, size // 10))
    elapsed: list[float] = []
    for _ in range(rounds):
        gc.collect()
        elapsed.append(await one_round(size))
    return elapsed


def per_op_us(seconds: list[float], ops: int) -> list[Sample]:
    return [{"us_per_op": s / ops * 1e6} for s in seconds]


def total_ms(seconds: list[float]) -> list[Sample]:
    return [{"ms": s * 1e3} for s in seconds]


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc``).

    The *current* RSS rather than ``ru_maxrss``: the peak would hide a baseline taken
    after an earlier, larger allocation was freed.
    """
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * _PAGE_SIZE
