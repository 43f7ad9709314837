"""Workloads -- memory channels: ping-pong and a producer/consumer stream.

``variant="pingpong"``: two tasks bounce a message back and forth over two channels
(one each way), ``size`` round trips; reported as µs per round trip. With ``buffer=0``
every send waits for its receiver; with ``buffer=100`` a send finds room at once, but
there is still only one message in flight.

``variant="stream"``: a producer sends ``size`` items through one channel with a buffer
of ``buffer``; a consumer receives them with ``async for``. Reported as µs per item
(messages per second is its inverse).

asyncio has no memory channels: it uses ``asyncio.Queue``, with ``maxsize=1`` for the
unbuffered case (``maxsize=0`` means unbounded there) and ``None`` as the end marker,
since a 3.11 queue cannot be closed. Note that ``Queue.put`` into a queue with room,
and ``Queue.get`` from a non-empty one, return without a task switch, while a
channel's ``send`` and ``receive`` are always checkpoints.

Self-checks: every message comes back (ping-pong) or arrives, in order (stream).
"""

from __future__ import annotations

import time
from types import ModuleType

from benchmarks._common import Sample, expect, load_trio_api, per_op_us, run_asyncio, timed_rounds


def _bench_trio_api(
    lib: ModuleType, size: int, rounds: int, variant: str, buffer: int
) -> list[Sample]:
    # Shared by nursery and Trio: same API, so the same idiomatic code (see checkpoint.py).
    async def pingpong_round(n: int) -> float:
        ping_send, ping_receive = lib.open_memory_channel(buffer)
        pong_send, pong_receive = lib.open_memory_channel(buffer)

        async def echo() -> None:
            async with pong_send:
                async for message in ping_receive:
                    await pong_send.send(message)

        echoed = 0
        start = time.perf_counter()
        async with lib.open_nursery() as nursery:
            nursery.start_soon(echo)
            async with ping_send:
                for i in range(n):
                    await ping_send.send(i)
                    if await pong_receive.receive() == i:
                        echoed += 1
        elapsed = time.perf_counter() - start
        expect(echoed, n, "messages echoed back")
        return elapsed

    async def stream_round(n: int) -> float:
        send, receive = lib.open_memory_channel(buffer)

        async def producer() -> None:
            async with send:
                for i in range(n):
                    await send.send(i)

        in_order = 0
        start = time.perf_counter()
        async with lib.open_nursery() as nursery:
            nursery.start_soon(producer)
            async for item in receive:
                if item == in_order:
                    in_order += 1
        elapsed = time.perf_counter() - start
        expect(in_order, n, "items received in order")
        return elapsed

    rounds_by_variant = {"pingpong": pingpong_round, "stream": stream_round}
    if variant not in rounds_by_variant:
        raise ValueError(f"unknown channel variant {variant!r}")
    one_round = rounds_by_variant[variant]

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(lib.run(main), size)


def bench_nursery(size: int, rounds: int, variant: str, buffer: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("nursery"), size, rounds, variant, buffer)


def bench_trio(size: int, rounds: int, variant: str, buffer: int) -> list[Sample]:
    return _bench_trio_api(load_trio_api("trio"), size, rounds, variant, buffer)


def bench_asyncio(size: int, rounds: int, variant: str, buffer: int, loop: str) -> list[Sample]:
    import asyncio

    maxsize = max(1, buffer)  # asyncio's maxsize=0 is unbounded, not a rendezvous

    async def pingpong_round(n: int) -> float:
        ping: asyncio.Queue[int | None] = asyncio.Queue(maxsize)
        pong: asyncio.Queue[int] = asyncio.Queue(maxsize)

        async def echo() -> None:
            while (message := await ping.get()) is not None:
                await pong.put(message)

        echoed = 0
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            group.create_task(echo())
            for i in range(n):
                await ping.put(i)
                if await pong.get() == i:
                    echoed += 1
            await ping.put(None)
        elapsed = time.perf_counter() - start
        expect(echoed, n, "messages echoed back")
        return elapsed

    async def stream_round(n: int) -> float:
        queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize)

        async def producer() -> None:
            for i in range(n):
                await queue.put(i)
            await queue.put(None)

        in_order = 0
        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            group.create_task(producer())
            while (item := await queue.get()) is not None:
                if item == in_order:
                    in_order += 1
        elapsed = time.perf_counter() - start
        expect(in_order, n, "items received in order")
        return elapsed

    rounds_by_variant = {"pingpong": pingpong_round, "stream": stream_round}
    if variant not in rounds_by_variant:
        raise ValueError(f"unknown channel variant {variant!r}")
    one_round = rounds_by_variant[variant]

    async def main() -> list[float]:
        return await timed_rounds(one_round, size, rounds)

    return per_op_us(run_asyncio(main, loop), size)
