"""Workload 2 -- spawn: start trivial tasks in a nursery / TaskGroup and wait for them.

Each task does nothing but bump a counter, so the time is the cost of the task
machinery itself: creating the task, scheduling it, running it to completion, and the
nursery noticing it finished. Reported as µs per task.

``batch=None`` starts all ``size`` tasks in one nursery (the nursery's child set gets
large); ``batch=1000`` opens a fresh nursery for every 1000 tasks, which adds the cost of
opening and closing nurseries and keeps the child set small.
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import (
    Sample,
    expect,
    load_trio_api,
    per_op_us,
    run_asyncio,
    timed_rounds,
)


def _batches(total: int, batch: int | None) -> list[int]:
    step = total if batch is None else batch
    return [min(step, total - done) for done in range(0, total, step)]


def _bench_trio_api(lib: ModuleType, size: int, rounds: int, batch: int | None) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def one_round(n: int) -> float:
        finished = 0

        async def trivial() -> None:
            nonlocal finished
            finished += 1

        batches = _batches(n, batch)
        start = time.perf_counter()
        for count in batches:
            async with lib.open_nursery() as nursery:
                for _ in range(count):
                    nursery.start_soon(trivial)
        elapsed = time.perf_counter() - start
        expect(finished, n, "trivial tasks finished")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), size)


def bench_nursery(size: int, rounds: int, batch: int | None) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds, batch)


def bench_trio(size: int, rounds: int, batch: int | None) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds, batch)


def bench_asyncio(size: int, rounds: int, batch: int | None, loop: str) -> list[Sample]:
    import asyncio

    async def one_round(n: int) -> float:
        finished = 0

        async def trivial() -> None:
            nonlocal finished
            finished += 1

        batches = _batches(n, batch)
        start = time.perf_counter()
        for count in batches:
            async with asyncio.TaskGroup() as group:
                for _ in range(count):
                    group.create_task(trivial())
        elapsed = time.perf_counter() - start
        expect(finished, n, "trivial tasks finished")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
