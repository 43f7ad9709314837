"""CPU-bound jobs on every core with to_process.run_sync, while the run stays free.

Counts the primes in four ranges, once in worker processes (as many at a time as there
are cores) and once sequentially in this process, and prints both times. Then shows
what an exception, cancellation and a crashing worker do. See docs/processes.md.
"""

from __future__ import annotations

import os
import time
from math import isqrt

import nursery
from nursery import to_process

JOBS = [(i * 20_000, (i + 1) * 20_000) for i in range(4)]


def count_primes(start: int, stop: int) -> int:
    """Count the primes in [start, stop) by trial division: pure Python, pure CPU."""
    count = 0
    for n in range(max(start, 2), stop):
        if all(n % d for d in range(2, isqrt(n) + 1)):
            count += 1
    return count


def spin_forever() -> None:
    while True:
        pass


async def count_all_primes() -> dict[tuple[int, int], int]:
    results: dict[tuple[int, int], int] = {}

    async def job(start: int, stop: int) -> None:
        # Runs in a worker process: the run goes on while it computes.
        results[start, stop] = await to_process.run_sync(count_primes, start, stop)
        print(f"  primes in [{start:>6,}, {stop:>6,}): {results[start, stop]:>5,}")

    async with nursery.open_nursery() as n:
        for start, stop in JOBS:
            n.start_soon(job, start, stop)
    return results


async def start_the_workers() -> None:
    # One call per token of the limiter at once: each starts a worker, and the jobs
    # reuse them.
    async with nursery.open_nursery() as n:
        for _ in range(to_process.current_default_process_limiter().total_tokens):
            n.start_soon(to_process.run_sync, os.getpid)


async def main() -> dict[tuple[int, int], int]:
    started = time.perf_counter()
    await start_the_workers()
    print(f"started {os.cpu_count()} worker processes in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    results = await count_all_primes()
    print(f"in worker processes: {time.perf_counter() - started:.2f} s")

    # An exception raised in the worker comes back with the worker's traceback.
    try:
        await to_process.run_sync(count_primes, 0, "ten")
    except TypeError as exc:
        print(f"TypeError: {exc} (the worker's traceback is its __cause__)")

    # Cancelling a call kills its worker: even a function that never returns ends.
    with nursery.move_on_after(0.1) as scope:
        await to_process.run_sync(spin_forever)
    assert scope.cancelled_caught
    print("spin_forever() was cancelled, and its worker killed")

    # A worker that dies in the middle of a call is a BrokenWorkerError, not a hang.
    try:
        await to_process.run_sync(os._exit, 3)
    except to_process.BrokenWorkerError as exc:
        print(f"BrokenWorkerError: {exc}")
    return results


# A worker process imports this script again (to find count_primes by name), so the
# work is done only under this guard.
if __name__ == "__main__":
    results = nursery.run(main)

    started = time.perf_counter()
    sequential = {(start, stop): count_primes(start, stop) for start, stop in JOBS}
    print(f"sequentially, in this process: {time.perf_counter() - started:.2f} s")
    assert results == sequential
    print(f"{sum(results.values()):,} primes below {JOBS[-1][1]:,}")
