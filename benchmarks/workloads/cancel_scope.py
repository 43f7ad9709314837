"""Workload 3 -- cancel scope: enter and exit a cancel scope that never fires.

Every ``move_on_after``, ``fail_after``, ``sleep`` and nursery in a Trio-style program
opens a cancel scope, so entering and leaving one must be cheap. Reported as µs per
enter+exit pair; the body does nothing but count.

``variant="plain"``: ``with CancelScope():`` -- no deadline. asyncio's closest
equivalent is ``async with asyncio.timeout(None):`` (a scope that can be cancelled or
rescheduled but has no deadline yet).

``variant="deadline"``: ``with move_on_after(1e6):`` -- a deadline that never expires,
so the implementation has to register and unregister a timer. asyncio:
``async with asyncio.timeout(1e6):``.
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import (
    FOREVER_SECONDS,
    Sample,
    expect,
    load_trio_api,
    per_op_us,
    run_asyncio,
    timed_rounds,
)


def _bench_trio_api(lib: ModuleType, size: int, rounds: int, variant: str) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def plain_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            with lib.CancelScope() as scope:
                done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "scopes entered")
        expect(scope.cancelled_caught, False, "last scope cancelled_caught")
        return elapsed

    async def deadline_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            with lib.move_on_after(FOREVER_SECONDS) as scope:
                done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "scopes entered")
        expect(scope.cancelled_caught, False, "last scope cancelled_caught")
        return elapsed

    one_round = {"plain": plain_round, "deadline": deadline_round}[variant]

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), size)


def bench_nursery(size: int, rounds: int, variant: str) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds, variant)


def bench_trio(size: int, rounds: int, variant: str) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds, variant)


def bench_asyncio(size: int, rounds: int, variant: str, loop: str) -> list[Sample]:
    import asyncio

    delay = {"plain": None, "deadline": FOREVER_SECONDS}[variant]

    async def one_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            async with asyncio.timeout(delay) as scope:
                done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "scopes entered")
        expect(scope.expired(), False, "last timeout expired")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
