"""Workload -- to_process round trip: run a no-op function in a worker process, N times.

One task calls ``to_process.run_sync(noop)`` again and again, each call awaited before
the next, so every iteration pays for one full round trip to a worker process:
pickling the call, writing it to the worker's socket, the worker running it, and the
pickled result coming back and waking the task. asyncio's counterpart is
``loop.run_in_executor(ProcessPoolExecutor(1), noop)``, with the same "spawn" start
method. Trio has no process pool of its own. The warm-up round starts the worker, so
process start-up is not part of the timing. Reported as µs per call.

Self-checks: every call returned, and ran in a process other than the event loop's.
"""

from __future__ import annotations

import os
import time

from benchmarks._common import Sample, expect, per_op_us, run_asyncio, timed_rounds


def noop() -> int:
    """What the workers run (importable by name, as a worker process needs)."""
    return os.getpid()


def _check(pids: list[int], n: int) -> None:
    expect(len(pids), n, "results returned to the task")
    expect(os.getpid() in pids, False, "a call ran in the event loop's own process")


def bench_nursery(size: int, rounds: int) -> list[Sample]:
    import nursery
    from nursery import to_process

    async def one_round(n: int) -> float:
        pids: list[int] = []
        run_sync = to_process.run_sync
        start = time.perf_counter()
        for _ in range(n):
            pids.append(await run_sync(noop))
        elapsed = time.perf_counter() - start
        _check(pids, n)
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(nursery.run(main), size)


def bench_asyncio(size: int, rounds: int, loop: str) -> list[Sample]:
    import asyncio
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    async def main() -> list[float]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as executor:
            event_loop = asyncio.get_running_loop()

            async def one_round(n: int) -> float:
                pids: list[int] = []
                start = time.perf_counter()
                for _ in range(n):
                    pids.append(await event_loop.run_in_executor(executor, noop))
                elapsed = time.perf_counter() - start
                _check(pids, n)
                return elapsed

            return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
