"""Workload 1 -- checkpoint: one task yielding to the scheduler in a loop.

This is the cost of the most frequent operation in any async program: a task gives
the scheduler a chance to run others (and to deliver cancellation) and is resumed
straight away because nothing else is runnable. Reported as µs per yield.

``variant="sleep0"`` uses ``await sleep(0)`` everywhere. ``variant="lowlevel"`` uses
``await lowlevel.checkpoint()``, which exists only in the Trio-style libraries.
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


def _bench_trio_api(lib: ModuleType, size: int, rounds: int, variant: str) -> list[Sample]:
    # nursery and Trio share one body: their APIs are the same by design, so the
    # idiomatic code is the same, and sharing it guarantees an identical workload.
    # The loop bodies are written out per variant (rather than calling a chosen
    # function through a variable) so the loop is exactly what a user would write.
    async def sleep0_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            await lib.sleep(0)
            done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "checkpoints completed")
        return elapsed

    async def lowlevel_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            await lib.lowlevel.checkpoint()
            done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "checkpoints completed")
        return elapsed

    rounds_by_variant = {"sleep0": sleep0_round, "lowlevel": lowlevel_round}
    if variant not in rounds_by_variant:
        raise ValueError(f"unknown checkpoint variant {variant!r}")
    one_round = rounds_by_variant[variant]

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), size)


def bench_nursery(size: int, rounds: int, variant: str) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds, variant)


def bench_trio(size: int, rounds: int, variant: str) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds, variant)


def bench_asyncio(size: int, rounds: int, variant: str, loop: str) -> list[Sample]:
    import asyncio

    if variant != "sleep0":
        raise ValueError(f"asyncio has no {variant!r} checkpoint")

    async def one_round(n: int) -> float:
        done = 0
        start = time.perf_counter()
        for _ in range(n):
            await asyncio.sleep(0)
            done += 1
        elapsed = time.perf_counter() - start
        expect(done, n, "checkpoints completed")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
