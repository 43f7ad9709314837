"""Socket ping-pong: two tasks bounce a 64-byte message over a socketpair, through the
low-level socket API (``nursery.socket`` against ``trio.socket``) and through
``SocketStream``. Prints microseconds per round trip, of wall-clock time and of this
process's CPU time (user + system: steadier on a shared machine), and nursery's speed-up.

    python -m benchmarks.socket_pingpong [round_trips] [repeats]
"""

from __future__ import annotations

import sys
import time
from types import ModuleType
from typing import Any

MESSAGE = b"x" * 64


def bench_sockets(lib: ModuleType, round_trips: int) -> tuple[float, float]:
    async def pinger(sock: Any) -> None:
        for _ in range(round_trips):
            await sock.send(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(await sock.recv(65536))

    async def ponger(sock: Any) -> None:
        for _ in range(round_trips):
            got = 0
            while got < len(MESSAGE):
                got += len(await sock.recv(65536))
            await sock.send(MESSAGE)

    async def main() -> tuple[float, float]:
        a, b = lib.socket.socketpair()
        with a, b:
            start = time.perf_counter(), time.process_time()
            async with lib.open_nursery() as n:
                n.start_soon(pinger, a)
                n.start_soon(ponger, b)
            return time.perf_counter() - start[0], time.process_time() - start[1]

    wall, cpu = lib.run(main)
    return wall / round_trips * 1e6, cpu / round_trips * 1e6


def bench_streams(lib: ModuleType, round_trips: int) -> tuple[float, float]:
    async def pinger(stream: Any) -> None:
        for _ in range(round_trips):
            await stream.send_all(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(await stream.receive_some())

    async def ponger(stream: Any) -> None:
        for _ in range(round_trips):
            got = 0
            while got < len(MESSAGE):
                got += len(await stream.receive_some())
            await stream.send_all(MESSAGE)

    async def main() -> tuple[float, float]:
        a, b = lib.socket.socketpair()
        left, right = lib.SocketStream(a), lib.SocketStream(b)
        async with left, right:
            start = time.perf_counter(), time.process_time()
            async with lib.open_nursery() as n:
                n.start_soon(pinger, left)
                n.start_soon(ponger, right)
            return time.perf_counter() - start[0], time.process_time() - start[1]

    wall, cpu = lib.run(main)
    return wall / round_trips * 1e6, cpu / round_trips * 1e6


def main() -> None:
    import trio

    import nursery

    round_trips = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    benches = {"socket": bench_sockets}
    if hasattr(nursery, "SocketStream"):
        benches["SocketStream"] = bench_streams
    for label, bench in benches.items():
        best: dict[str, tuple[float, float]] = {}
        # Interleaved, best of N: the machine is shared, and noise only ever adds time.
        for _ in range(repeats):
            for name, lib in (("nursery", nursery), ("trio", trio)):
                wall, cpu = bench(lib, round_trips)
                old_wall, old_cpu = best.get(name, (wall, cpu))
                best[name] = (min(wall, old_wall), min(cpu, old_cpu))
        for index, kind in enumerate(("wall", "cpu")):
            ours, theirs = best["nursery"][index], best["trio"][index]
            print(
                f"{label:>12} ({kind}): nursery {ours:6.2f} µs/round trip, "
                f"trio {theirs:6.2f} µs/round trip, nursery is {theirs / ours:.2f}x trio"
            )


if __name__ == "__main__":
    main()
