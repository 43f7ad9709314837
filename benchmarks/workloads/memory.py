"""Workload 5 -- memory: bytes per sleeping task.

``size`` tasks are started and parked in a long ``sleep``; memory is measured once all
of them are asleep, against a baseline taken just before they were started, and
divided by ``size``. The tasks are then cancelled (untimed) and counted.

Two figures, measured one after the other in the same worker:

* ``rss_bytes_per_task`` -- growth of the resident set. Measured first, while nothing
  is traced: tracemalloc's own bookkeeping would otherwise inflate it. It includes
  allocator slack (partly filled pools and arenas), so it is the "what the OS sees"
  figure, and it is coarse (page granularity).
* ``tracemalloc_bytes_per_task`` -- growth of the bytes Python has allocated and not
  freed, as counted by tracemalloc. Precise and repeatable; the primary figure.

A small round first lets one-time allocations (caches, lazily created internals)
happen before either baseline.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Awaitable, Callable
from types import ModuleType

from benchmarks._common import (
    FOREVER_SECONDS,
    Sample,
    expect,
    load_trio_api,
    rss_bytes,
    run_asyncio,
)


class Probe:
    """Reads a memory figure before the tasks are started and once all are asleep."""

    def start(self) -> int:
        raise NotImplementedError

    def stop(self) -> int:
        raise NotImplementedError


class RssProbe(Probe):
    def start(self) -> int:
        return rss_bytes()

    def stop(self) -> int:
        return rss_bytes()


class TracemallocProbe(Probe):
    """Traces only while the tasks are being created and are asleep.

    Tracing stops before the tasks are cancelled: tracemalloc slows every allocation
    down several times and the clean-up is not what is being measured.
    """

    def start(self) -> int:
        tracemalloc.start()
        return tracemalloc.get_traced_memory()[0]

    def stop(self) -> int:
        try:
            return tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()


# (task count, probe) -> bytes per sleeping task
Measure = Callable[[int, Probe], Awaitable[float]]

_WARMUP_TASKS = 100


async def _both_figures(measure: Measure, size: int) -> Sample:
    # Nothing is timed here, and every probe reading is preceded by an explicit
    # gc.collect(), so the automatic collector only costs time: with 100,000 tasks its
    # repeated full collections would dominate the run. Disabling it changes no figure.
    gc.disable()
    try:
        await measure(_WARMUP_TASKS, RssProbe())
        # RSS first: once the big measurement has grown the heap, freed arenas would
        # be reused and a second RSS delta would read close to zero.
        rss_per_task = await measure(size, RssProbe())
        traced_per_task = await measure(size, TracemallocProbe())
    finally:
        gc.enable()
    return {
        "tracemalloc_bytes_per_task": traced_per_task,
        "rss_bytes_per_task": rss_per_task,
    }


def _bench_trio_api(lib: ModuleType, size: int) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def measure(n: int, probe: Probe) -> float:
        started = finished = 0

        async def sleeper() -> None:
            nonlocal started, finished
            started += 1
            try:
                await lib.sleep(FOREVER_SECONDS)
            finally:
                finished += 1

        gc.collect()
        before = probe.start()
        async with lib.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(sleeper)
            # Counting and falling asleep happen in one step: all counted => all asleep.
            while started < n:
                await lib.sleep(0)
            gc.collect()
            after = probe.stop()
            expect(finished, 0, "sleepers woken before the measurement")
            nursery.cancel_scope.cancel()
        expect(finished, n, "cancelled sleepers finished")
        return (after - before) / n

    async def main() -> Sample:
        return await _both_figures(measure, size)

    return [lib.run(main)]


def bench_nursery(size: int, rounds: int) -> list[Sample]:
    # ``rounds`` is accepted for a uniform signature; memory is measured once per
    # process because a second measurement would reuse the first one's freed arenas.
    return _bench_trio_api(load_trio_api("nursery"), size)


def bench_trio(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size)


class _CancelAll(Exception):
    """Raised out of the TaskGroup body to make it cancel its children."""


def bench_asyncio(size: int, rounds: int, loop: str) -> list[Sample]:
    import asyncio

    async def measure(n: int, probe: Probe) -> float:
        started = finished = 0

        async def sleeper() -> None:
            nonlocal started, finished
            started += 1
            try:
                await asyncio.sleep(FOREVER_SECONDS)
            finally:
                finished += 1

        gc.collect()
        before = probe.start()
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(n):
                    group.create_task(sleeper())
                while started < n:
                    await asyncio.sleep(0)
                gc.collect()
                after = probe.stop()
                expect(finished, 0, "sleepers woken before the measurement")
                raise _CancelAll
        except* _CancelAll:
            pass
        expect(finished, n, "cancelled sleepers finished")
        return (after - before) / n

    async def main() -> Sample:
        return await _both_figures(measure, size)

    return [run_asyncio(main, loop)]
