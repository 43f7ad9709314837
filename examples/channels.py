"""Memory channels: producers and consumers, clones, buffering, closing, cancellation,
and as_safe_channel."""

import math
from collections.abc import AsyncGenerator

import nursery
from nursery import MemoryReceiveChannel, MemorySendChannel


async def producer_consumer() -> list[int]:
    send_channel, receive_channel = nursery.open_memory_channel[int](0)

    async def producer(send_channel: MemorySendChannel[int]) -> None:
        async with send_channel:  # closing it tells the consumer: no more items
            for i in range(5):
                await send_channel.send(i)

    received: list[int] = []
    async with nursery.open_nursery() as n:
        n.start_soon(producer, send_channel)
        async with receive_channel:
            async for item in receive_channel:  # ends at EndOfChannel
                received.append(item)
    return received


async def fan_in_and_out() -> list[str]:
    send_channel, receive_channel = nursery.open_memory_channel[str](0)
    results: list[str] = []

    async def producer(name: str, send_channel: MemorySendChannel[str]) -> None:
        async with send_channel:
            for i in range(3):
                await send_channel.send(f"{name}{i}")

    async def consumer(receive_channel: MemoryReceiveChannel[str]) -> None:
        async with receive_channel:
            async for item in receive_channel:
                results.append(item)

    # One clone per task, and the originals closed once the clones are made (they
    # leave the block first): the channel ends when the last clone is closed.
    async with nursery.open_nursery() as n, send_channel, receive_channel:
        for name in "ab":
            n.start_soon(producer, name, send_channel.clone())
        for _ in range(2):
            n.start_soon(consumer, receive_channel.clone())
    return sorted(results)


async def buffering() -> None:
    send_channel, receive_channel = nursery.open_memory_channel[str](2)
    send_channel.send_nowait("a")  # not a checkpoint: fits in the buffer
    send_channel.send_nowait("b")
    try:
        send_channel.send_nowait("c")  # the buffer is full
    except nursery.WouldBlock:
        print("buffer full: send() would wait for a receiver")
    stats = send_channel.statistics()
    assert (stats.current_buffer_used, stats.max_buffer_size) == (2, 2)
    assert await receive_channel.receive() == "a"  # FIFO
    assert receive_channel.receive_nowait() == "b"

    # math.inf: never blocks (and never pushes back on a fast producer).
    unbounded_send, _ = nursery.open_memory_channel[int](math.inf)
    for i in range(10_000):
        unbounded_send.send_nowait(i)
    assert unbounded_send.statistics().peak_buffer_used == 10_000


async def closing() -> None:
    send_channel, receive_channel = nursery.open_memory_channel[int](1)
    await send_channel.send(1)
    send_channel.close()  # synchronous; aclose() is the async twin
    # The receiver still gets what was sent, then EndOfChannel.
    assert await receive_channel.receive() == 1
    try:
        await receive_channel.receive()
    except nursery.EndOfChannel:
        print("receiver: end of channel")

    send_channel, receive_channel = nursery.open_memory_channel[int](1)
    receive_channel.close()
    try:
        await send_channel.send(1)  # nobody can receive it any more
    except nursery.BrokenResourceError:
        print("sender: every receiver is gone")
    try:
        receive_channel.receive_nowait()  # this handle itself is closed
    except nursery.ClosedResourceError:
        print("receiver: this handle was closed")


async def cancellation() -> None:
    send_channel, receive_channel = nursery.open_memory_channel[str](0)
    with nursery.move_on_after(0.01):
        await send_channel.send("never delivered")  # nobody receives: times out
    # A cancelled send has done nothing: the item is not waiting anywhere.
    assert send_channel.statistics().tasks_waiting_send == 0
    try:
        receive_channel.receive_nowait()
    except nursery.WouldBlock:
        print("the cancelled send left nothing behind")


@nursery.as_safe_channel
async def countdown(start: int) -> AsyncGenerator[int, None]:
    # Runs in a task of its own, so a yield inside a nursery or a cancel scope is
    # safe here: the same task enters and exits them.
    with nursery.move_on_after(10):
        for i in range(start, 0, -1):
            yield i


async def safe_generator() -> list[int]:
    async with countdown(3) as items:
        return [item async for item in items]


async def main() -> None:
    assert await producer_consumer() == [0, 1, 2, 3, 4]
    assert await fan_in_and_out() == ["a0", "a1", "a2", "b0", "b1", "b2"]
    await buffering()
    await closing()
    await cancellation()
    assert await safe_generator() == [3, 2, 1]
    print("all channel examples passed")


if __name__ == "__main__":
    nursery.run(main)
