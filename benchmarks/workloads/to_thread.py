"""Workload -- to_thread round trip: run a no-op function in a worker thread, N times.

One task calls ``to_thread.run_sync(noop)`` (asyncio: ``asyncio.to_thread(noop)``) again
and again, each call awaited before the next, so every iteration pays for one full round
trip: handing the call to a cached worker thread, the worker running it, and its result
coming back into the event loop to wake the task. Reported as µs per call.

Self-checks: the function ran once per call, never in the event loop's thread, and every
call returned its result.
"""

from __future__ import annotations

import importlib
import threading
import time
from types import ModuleType

from benchmarks._common import Sample, expect, load_trio_api, per_op_us, run_asyncio, timed_rounds


class _Tally:
    def __init__(self) -> None:
        self.calls = 0
        self.in_loop_thread = 0
        self.results = 0
        self.loop_thread = threading.get_ident()

    def noop(self) -> int:
        # Calls are sequential (each is awaited before the next), so no lock is needed.
        self.calls += 1
        if threading.get_ident() == self.loop_thread:
            self.in_loop_thread += 1
        return 1


def _check(tally: _Tally, n: int) -> None:
    expect(tally.calls, n, "calls of the function in a worker thread")
    expect(tally.in_loop_thread, 0, "calls run in the event loop's thread")
    expect(tally.results, n, "results returned to the task")


def _bench_trio_api(lib: ModuleType, size: int, rounds: int) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    to_thread = importlib.import_module(f"{lib.__name__}.to_thread")

    async def one_round(n: int) -> float:
        tally = _Tally()
        run_sync = to_thread.run_sync
        noop = tally.noop
        start = time.perf_counter()
        for _ in range(n):
            tally.results += await run_sync(noop)
        elapsed = time.perf_counter() - start
        _check(tally, n)
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
        tally = _Tally()
        noop = tally.noop
        start = time.perf_counter()
        for _ in range(n):
            tally.results += await asyncio.to_thread(noop)
        elapsed = time.perf_counter() - start
        _check(tally, n)
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
