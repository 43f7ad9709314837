"""How close run_process can get: the run-process workload next to the operating
system's floor for the same round trip.

    python -m benchmarks.spawn_floor [--size N] [--repeat R]

Prints, for R alternating passes of N children each, the median µs per child of:
the C floor (``floor.c``: posix_spawn of ``/usr/bin/true`` by absolute path, then
waitpid), ``subprocess.Popen(["true"]).wait()``, nursery's ``run_process(["true"])`` and
Trio's. The last line compares 0.5x Trio's time (issue 5's target) with the floor: a
target below the floor cannot be met by any library on this machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.echo.build import build

PROGRAM = "true"


def _floor(size: int) -> float:
    binary = build(Path(__file__).resolve().parent / "floor.c", "spawn-floor")
    absolute = shutil.which(PROGRAM)
    assert absolute is not None, f"{PROGRAM} is not on PATH"
    completed = subprocess.run(
        [str(binary), absolute, str(size)], capture_output=True, text=True, check=True
    )
    return float(completed.stdout)


def _popen(size: int) -> float:
    start = time.perf_counter()
    for _ in range(size):
        subprocess.Popen([PROGRAM]).wait()
    return (time.perf_counter() - start) / size * 1e6


def _library(name: str, size: int) -> float:
    # In a fresh interpreter, as the benchmark workers do.
    code = (
        f"import time, {name}\n"
        "async def main():\n"
        f"    for _ in range({size}):\n"
        f"        await {name}.run_process([{PROGRAM!r}])\n"
        "start = time.perf_counter()\n"
        f"{name}.run(main)\n"
        f"print((time.perf_counter() - start) / {size} * 1e6)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=300, help="children per pass")
    parser.add_argument("--repeat", type=int, default=5, help="alternating passes")
    args = parser.parse_args()
    measures = {
        "C floor (posix_spawn + waitpid)": _floor,
        'Popen(["true"]).wait()': _popen,
        "nursery run_process": lambda size: _library("nursery", size),
        "trio run_process": lambda size: _library("trio", size),
    }
    results: dict[str, list[float]] = {label: [] for label in measures}
    for _ in range(args.repeat):
        for label, measure in measures.items():
            results[label].append(measure(args.size))
    medians = {label: statistics.median(values) for label, values in results.items()}
    for label, value in medians.items():
        print(f"{label:34s} {value:8.1f} µs")
    floor = medians["C floor (posix_spawn + waitpid)"]
    half_trio = medians["trio run_process"] / 2
    print(
        f"0.5x Trio = {half_trio:.1f} µs, floor = {floor:.1f} µs: the target is "
        + ("below the floor" if half_trio < floor else f"{half_trio - floor:.1f} µs above it")
    )
    print(
        f"nursery/trio = {medians['nursery run_process'] / medians['trio run_process']:.2f}, "
        f"floor/trio = {floor / medians['trio run_process']:.2f}"
    )


if __name__ == "__main__":
    main()
