"""Workload -- lock contended: 100 tasks take turns holding one lock.

Each of 100 tasks acquires the lock, yields once while holding it (``await sleep(0)``,
standing for the work the lock protects) and releases it, again and again. The yield
inside the critical section is what makes the lock contended in every implementation:
while the holder is suspended, all the other tasks queue up on the lock, so every
acquisition waits in line and every release hands the lock to the next waiter. Timed
from the start of the tasks until the last one has finished; reported as µs per
acquisition (``size`` acquisitions in total, spread evenly over the tasks).

Self-checks: the lock was held by one task at a time, every acquisition happened, and
no task ever got the lock twice in a row (the queue was fair and always non-empty, so
the lock really was contended).
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import Sample, expect, load_trio_api, per_op_us, run_asyncio, timed_rounds

TASKS = 100


def _per_task(n: int) -> int:
    return max(1, n // TASKS)


class _Tally:
    """What the tasks record as they go; checked after each round."""

    def __init__(self) -> None:
        self.inside = 0  # tasks inside the critical section right now
        self.most_inside = 0
        self.acquisitions = 0
        self.twice_in_a_row = 0
        self.last_holder = -1


def _check(tally: _Tally, per_task: int) -> None:
    expect(tally.most_inside, 1, "tasks holding the lock at once")
    expect(tally.acquisitions, per_task * TASKS, "acquisitions")
    expect(tally.twice_in_a_row, 0, "acquisitions by the task that held the lock just before")


def _bench_trio_api(lib: ModuleType, size: int, rounds: int) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def one_round(n: int) -> float:
        per_task = _per_task(n)
        lock = lib.Lock()
        tally = _Tally()

        async def worker(me: int) -> None:
            for _ in range(per_task):
                async with lock:
                    tally.inside += 1
                    tally.most_inside = max(tally.most_inside, tally.inside)
                    tally.acquisitions += 1
                    if tally.last_holder == me:
                        tally.twice_in_a_row += 1
                    tally.last_holder = me
                    await lib.sleep(0)
                    tally.inside -= 1

        start = time.perf_counter()
        async with lib.open_nursery() as nursery:
            for me in range(TASKS):
                nursery.start_soon(worker, me)
        elapsed = time.perf_counter() - start
        _check(tally, per_task)
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), _per_task(size) * TASKS)


def bench_nursery(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds)


def bench_trio(size: int, rounds: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds)


def bench_asyncio(size: int, rounds: int, loop: str) -> list[Sample]:
    import asyncio

    async def one_round(n: int) -> float:
        per_task = _per_task(n)
        lock = asyncio.Lock()
        tally = _Tally()

        async def worker(me: int) -> None:
            for _ in range(per_task):
                async with lock:
                    tally.inside += 1
                    tally.most_inside = max(tally.most_inside, tally.inside)
                    tally.acquisitions += 1
                    if tally.last_holder == me:
                        tally.twice_in_a_row += 1
                    tally.last_holder = me
                    await asyncio.sleep(0)
                    tally.inside -= 1

        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for me in range(TASKS):
                group.create_task(worker(me))
        elapsed = time.perf_counter() - start
        _check(tally, per_task)
        return elapsed

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), _per_task(size) * TASKS)
