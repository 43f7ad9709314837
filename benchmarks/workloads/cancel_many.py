"""Workload 4 -- cancel many: cancel a nursery of sleeping tasks and wait for all of them.

``size`` tasks (10,000 by default) are started and parked in a long ``sleep``. Only
what follows is timed: from the call that cancels the whole group until the
``async with`` block has exited, i.e. every task has been woken, has unwound with
``Cancelled`` / ``CancelledError`` and has been reaped. Reported in ms for all tasks.

Trio style: ``nursery.cancel_scope.cancel()``. asyncio 3.11 has no way to cancel a
TaskGroup from outside its tasks, so the idiomatic equivalent is to raise out of the
``async with TaskGroup()`` body, which makes the group cancel its children; the
exception is caught with ``except*`` right after the block.
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import (
    FOREVER_SECONDS,
    Sample,
    expect,
    load_trio_api,
    run_asyncio,
    timed_rounds,
    total_ms,
)


def _bench_trio_api(lib: ModuleType, size: int, rounds: int) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def one_round(n: int) -> float:
        started = finished = 0

        async def sleeper() -> None:
            nonlocal started, finished
            started += 1
            try:
                await lib.sleep(FOREVER_SECONDS)
            finally:
                finished += 1

        async with lib.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(sleeper)
            # A task counts itself and goes to sleep in one uninterrupted step, so
            # once all have counted themselves, all are asleep.
            while started < n:
                await lib.sleep(0)
            expect(finished, 0, "sleepers woken before the cancel")
            start = time.perf_counter()
            nursery.cancel_scope.cancel()
        elapsed = time.perf_counter() - start
        expect(finished, n, "cancelled sleepers finished")
        expect(nursery.cancel_scope.cancelled_caught, True, "nursery caught its cancel")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return total_ms(lib.run(main))


def bench_nursery(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds)


def bench_trio(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds)


class _CancelAll(Exception):
    """Raised out of the TaskGroup body to make it cancel its children."""


def bench_asyncio(size: int, rounds: int, loop: str) -> list[Sample]:
    import asyncio

    async def one_round(n: int) -> float:
        started = finished = 0

        async def sleeper() -> None:
            nonlocal started, finished
            started += 1
            try:
                await asyncio.sleep(FOREVER_SECONDS)
            finally:
                finished += 1

        caught = False
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(n):
                    group.create_task(sleeper())
                while started < n:  # see the Trio-style version
                    await asyncio.sleep(0)
                expect(finished, 0, "sleepers woken before the cancel")
                start = time.perf_counter()
                raise _CancelAll
        except* _CancelAll:
            caught = True
        elapsed = time.perf_counter() - start
        expect(finished, n, "cancelled sleepers finished")
        expect(caught, True, "TaskGroup re-raised the cancelling exception")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return total_ms(run_asyncio(main, loop))
