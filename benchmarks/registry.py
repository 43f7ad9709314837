"""What can be measured: implementations, workloads, their sizes, metrics and targets.

Pure data, imported by both the parent (``run.py``) and the workers; it must not import
any of the libraries being measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IMPLEMENTATIONS = ("nursery", "trio", "asyncio", "uvloop")
# uvloop is an asyncio event loop: it runs the asyncio version of each workload.
ASYNCIO_LOOPS = ("asyncio", "uvloop")

# Performance targets for nursery. A time metric passes when nursery's median is at
# most these fractions of Trio's and of asyncio's; a memory metric when it is at most
# Trio's.
TIME_TARGET_VS_TRIO = 0.5
TIME_TARGET_VS_ASYNCIO = 1.0
MEMORY_TARGET_VS_TRIO = 1.0


@dataclass(frozen=True)
class Metric:
    key: str  # key in a worker's sample dict
    label: str  # suffix shown after the workload name when a workload has several metrics
    unit: str
    kind: str  # "time" or "memory": selects the target; "rate": higher is better;
    # "info": shown without a target


US_PER_OP = Metric("us_per_op", "", "µs/op", "time")
MS_TOTAL = Metric("ms", "", "ms", "time")
TRACEMALLOC = Metric("tracemalloc_bytes_per_task", "tracemalloc", "B/task", "memory")
RSS = Metric("rss_bytes_per_task", "RSS", "B/task", "memory")
# tcp-echo: throughput (higher is better) and the server's CPU time per request.
REQUESTS_PER_S = Metric("requests_per_s", "req/s", "req/s", "rate")
MB_PER_S = Metric("mb_per_s", "MB/s", "MB/s", "rate")
SERVER_CPU_PER_REQUEST = Metric("server_cpu_us_per_request", "server CPU", "µs/req", "time")
# Shown for insight, no target: the part of the server's CPU spent outside the kernel.
SERVER_USER_CPU_PER_REQUEST = Metric(
    "server_user_us_per_request", "server user CPU", "µs/req", "info"
)
ECHO_METRICS = (REQUESTS_PER_S, MB_PER_S, SERVER_CPU_PER_REQUEST, SERVER_USER_CPU_PER_REQUEST)
# tcp-echo targets: 1.5x Trio's throughput at most 0.67x its server CPU per request,
# and better than asyncio streams on both.
ECHO_RATE_TARGETS = {"trio": 1.5, "asyncio": 1.0}
ECHO_TIME_TARGETS = {"trio": 0.67, "asyncio": 1.0}


@dataclass(frozen=True)
class Workload:
    name: str
    module: str  # under benchmarks.workloads
    summary: str
    metrics: tuple[Metric, ...]
    full_size: int
    quick_size: int | None  # None: skipped by --quick
    smoke_size: int
    params: dict[str, Any] = field(default_factory=dict)
    impls: tuple[str, ...] = IMPLEMENTATIONS
    # Timed rounds inside one worker (the worker reports the fastest). Memory is
    # measured once per worker: see workloads/memory.py.
    rounds: int = 3
    # Memory figures barely move between runs and the big ones are slow to take, so
    # they need (and get) fewer repeats than the timings.
    max_repeat: int | None = None
    # For a time metric: the highest nursery/other ratio that passes, per other
    # implementation, when this workload's targets differ from the defaults above.
    time_targets: dict[str, float] | None = None
    # For a "rate" metric (higher is better): the lowest nursery/other ratio that
    # passes, per other implementation. None or {}: no target.
    rate_targets: dict[str, float] | None = None

    def size(self, mode: str) -> int | None:
        return {"full": self.full_size, "quick": self.quick_size, "smoke": self.smoke_size}[mode]

    def rounds_for(self, mode: str) -> int:
        """Timed rounds per worker: fewer in --quick (its budget is a minute), one in --smoke."""
        return {"full": self.rounds, "quick": min(2, self.rounds), "smoke": 1}[mode]

    def repeats_for(self, mode: str, requested: int) -> int:
        """Worker processes per implementation, capped for the slow, steady memory figures."""
        if self.max_repeat is None:
            return requested
        # --quick takes each memory figure once: it varies far less than the timings.
        return min(requested, 1 if mode == "quick" else self.max_repeat)


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="checkpoint",
        module="checkpoint",
        summary="`await sleep(0)` in a loop, one task",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "sleep0"},
    ),
    Workload(
        name="checkpoint-lowlevel",
        module="checkpoint",
        summary="`await lowlevel.checkpoint()` in a loop, one task (Trio-style only)",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "lowlevel"},
        impls=("nursery", "trio"),
    ),
    Workload(
        name="spawn",
        module="spawn",
        summary="start N trivial tasks in one nursery / TaskGroup and wait for them",
        metrics=(US_PER_OP,),
        full_size=10_000,
        quick_size=3_000,
        smoke_size=50,
        params={"batch": None},
    ),
    Workload(
        name="spawn-batched",
        module="spawn",
        summary="same, a fresh nursery / TaskGroup for every 1000 tasks",
        metrics=(US_PER_OP,),
        full_size=10_000,
        quick_size=3_000,
        smoke_size=2_000,
        params={"batch": 1000},
    ),
    Workload(
        name="cancel-scope",
        module="cancel_scope",
        summary="enter+exit `CancelScope()` (asyncio: `timeout(None)`)",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "plain"},
    ),
    Workload(
        name="move-on-after",
        module="cancel_scope",
        summary="enter+exit `move_on_after(1e6)` (asyncio: `timeout(1e6)`)",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "deadline"},
    ),
    Workload(
        name="cancel-10k",
        module="cancel_many",
        summary="cancel 10,000 sleeping tasks: from `cancel()` until all have exited",
        metrics=(MS_TOTAL,),
        full_size=10_000,
        quick_size=10_000,
        smoke_size=50,
    ),
    Workload(
        name="lock-contended",
        module="lock_contended",
        summary="100 tasks take turns on one lock, yielding once while holding it",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=200,
    ),
    Workload(
        name="channel-pingpong",
        module="channel",
        summary="two tasks bounce a message over two unbuffered channels (asyncio: Queue(1))",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "pingpong", "buffer": 0},
    ),
    Workload(
        name="channel-pingpong-100",
        module="channel",
        summary="same, over channels with a buffer of 100 (asyncio: Queue(100))",
        metrics=(US_PER_OP,),
        full_size=20_000,
        quick_size=5_000,
        smoke_size=50,
        params={"variant": "pingpong", "buffer": 100},
    ),
    Workload(
        name="channel-stream-100",
        module="channel",
        summary="a producer streams N items to a consumer through a buffer of 100",
        metrics=(US_PER_OP,),
        full_size=50_000,
        quick_size=10_000,
        smoke_size=50,
        params={"variant": "stream", "buffer": 100},
        # asyncio puts into a queue with room without a task switch, while a channel's
        # send stays a checkpoint, so there is no asyncio target here; instead nursery
        # must move at least 4x Trio's messages per second.
        time_targets={"trio": 0.25},
    ),
    Workload(
        name="to-thread",
        module="to_thread",
        summary="`to_thread.run_sync(noop)` round trips, one at a time (asyncio: `to_thread`)",
        metrics=(US_PER_OP,),
        full_size=5_000,
        quick_size=1_000,
        smoke_size=20,
    ),
    Workload(
        name="to-process",
        module="to_process",
        summary="`to_process.run_sync(noop)` round trips, one at a time "
        "(asyncio: `run_in_executor(ProcessPoolExecutor(1))`)",
        metrics=(US_PER_OP,),
        full_size=2_000,
        quick_size=500,
        smoke_size=10,
        # Trio has no process pool: the only target is asyncio's.
        impls=("nursery", "asyncio", "uvloop"),
        time_targets={"asyncio": 1.0},
    ),
    Workload(
        name="run-process",
        module="run_process",
        summary='`run_process(["true"])` round trips, one at a time (asyncio: '
        "`create_subprocess_exec` + `wait`)",
        metrics=(US_PER_OP,),
        full_size=300,
        quick_size=100,
        smoke_size=3,
    ),
    Workload(
        name="memory-10k",
        module="memory",
        summary="bytes per sleeping task, 10,000 tasks asleep",
        metrics=(TRACEMALLOC, RSS),
        full_size=10_000,
        quick_size=10_000,
        smoke_size=50,
        rounds=1,
        max_repeat=3,
    ),
    Workload(
        name="memory-100k",
        module="memory",
        summary="bytes per sleeping task, 100,000 tasks asleep",
        metrics=(TRACEMALLOC, RSS),
        full_size=100_000,
        quick_size=None,
        smoke_size=50,
        rounds=1,
        # Per-task figures at 100k agree with each other to 0.1% between runs, and one
        # Trio run takes ~30 s here: one repeat is enough.
        max_repeat=1,
    ),
)


def _tcp_echo(name: str, message_bytes: int, api: str) -> Workload:
    streams = api == "streams"
    return Workload(
        name=name,
        module="tcp_echo",
        summary=f"{message_bytes}-byte TCP echo, 50 connections, one fixed C load client"
        + (" (asyncio: streams)" if streams else " (asyncio protocols, on both loops)"),
        metrics=ECHO_METRICS,
        # Sizes are the measured window in milliseconds (plus a third of it warming up).
        full_size=2000,
        # --quick: only the 64-byte pair, a short window (its budget is about a minute).
        quick_size=300 if streams and message_bytes == 64 else None,
        smoke_size=100,
        params={"message_bytes": message_bytes, "connections": 50, "api": api},
        impls=IMPLEMENTATIONS if streams else ASYNCIO_LOOPS,
        # Each worker starts a fresh server and runs one window of a couple of seconds;
        # the usual number of workers (5, 3 with --quick, or --repeat) take turns.
        rounds=1,
        time_targets=ECHO_TIME_TARGETS if streams else {},
        rate_targets=ECHO_RATE_TARGETS if streams else {},
    )


WORKLOADS = (
    *WORKLOADS,
    _tcp_echo("tcp-echo-64", 64, "streams"),
    _tcp_echo("tcp-echo-16k", 16384, "streams"),
    _tcp_echo("tcp-echo-64-protocols", 64, "protocols"),
    _tcp_echo("tcp-echo-16k-protocols", 16384, "protocols"),
)

WORKLOADS_BY_NAME = {workload.name: workload for workload in WORKLOADS}
