"""Measure one workload on one implementation and print the result as one JSON line.

Started by ``benchmarks.run`` in a fresh interpreter per measurement::

    python -m benchmarks.worker WORKLOAD IMPL --size N [--rounds R]

Output (stdout, last line)::

    {"ok": true, "workload": ..., "impl": ..., "size": N,
     "rounds": [{metric: value}, ...], "best": {metric: value}}

or ``{"ok": false, "error": "..."}`` with exit status 1 when the workload raised,
including when its self-check failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks._common import Sample
from benchmarks.registry import ASYNCIO_LOOPS, IMPLEMENTATIONS, WORKLOADS_BY_NAME


def measure(workload_name: str, impl: str, size: int, rounds: int) -> list[Sample]:
    workload = WORKLOADS_BY_NAME[workload_name]
    if impl not in workload.impls:
        raise ValueError(f"workload {workload_name!r} has no {impl!r} version")
    module = importlib.import_module(f"benchmarks.workloads.{workload.module}")
    params: dict[str, Any] = dict(workload.params)
    if impl in ASYNCIO_LOOPS:
        # uvloop has no version of its own: it runs the asyncio code on its loop.
        bench: Callable[..., list[Sample]] = module.bench_asyncio
        params["loop"] = impl
    else:
        bench = getattr(module, f"bench_{impl}")
    return bench(size, rounds, **params)


def best_of(samples: list[Sample], higher_is_better: frozenset[str] = frozenset()) -> Sample:
    """Per metric, the lowest value over the rounds of this process (the highest for
    the keys in ``higher_is_better``: rates such as requests per second).

    The minimum is the round least disturbed by whatever else the machine was doing;
    variation *between* processes is handled by the parent taking the median.
    """
    return {
        key: (max if key in higher_is_better else min)(sample[key] for sample in samples)
        for key in samples[0]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS_BY_NAME))
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"workload": args.workload, "impl": args.impl, "size": args.size}
    try:
        samples = measure(args.workload, args.impl, args.size, args.rounds)
        if not samples:
            raise RuntimeError("workload returned no samples")
    except BaseException as exc:  # report anything, even KeyboardInterrupt, as JSON
        traceback.print_exc()
        result.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        print(json.dumps(result), flush=True)
        return 1
    rates = frozenset(
        metric.key for metric in WORKLOADS_BY_NAME[args.workload].metrics if metric.kind == "rate"
    )
    result.update(ok=True, rounds=samples, best=best_of(samples, rates))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
