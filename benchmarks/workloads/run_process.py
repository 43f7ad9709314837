"""Workload -- run_process round trip: spawn `true`, wait for it to exit, N times.

One task calls ``run_process(["true"])`` (asyncio: ``create_subprocess_exec("true")``
then ``wait()``) again and again, each call awaited before the next, so every iteration
pays for one whole child: spawning it, noticing that it exited, and reaping it. Most of
the time is the operating system's (fork/exec and the child's own run); what differs is
what each library adds around it. Reported as µs per child.

Self-checks: every child ran and exited with status 0.
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import Sample, expect, load_trio_api, per_op_us, run_asyncio, timed_rounds

COMMAND = "true"


def _bench_trio_api(lib: ModuleType, size: int, rounds: int) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code.
    run_process = lib.run_process

    async def one_round(n: int) -> float:
        succeeded = 0
        start = time.perf_counter()
        for _ in range(n):
            result = await run_process([COMMAND])
            succeeded += result.returncode == 0
        elapsed = time.perf_counter() - start
        expect(succeeded, n, "children that exited with status 0")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), size)


def bench_nursery(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds)


def bench_trio(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds)


def bench_asyncio(size: int, rounds: int, loop: str) -> list[Sample]:
    import asyncio

    async def one_round(n: int) -> float:
        succeeded = 0
        start = time.perf_counter()
        for _ in range(n):
            process = await asyncio.create_subprocess_exec(COMMAND)
            succeeded += await process.wait() == 0
        elapsed = time.perf_counter() - start
        expect(succeeded, n, "children that exited with status 0")
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
