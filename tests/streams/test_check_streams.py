"""The conformance checkers pass on the stream implementations nursery ships."""

from __future__ import annotations

import nursery
from nursery.abc import HalfCloseableStream, ReceiveStream, SendStream, Stream
from nursery.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    check_half_closeable_stream,
    check_one_way_stream,
    check_two_way_stream,
    lockstep_stream_one_way_pair,
    lockstep_stream_pair,
    memory_stream_one_way_pair,
    memory_stream_pair,
)


async def memory_one_way() -> tuple[MemorySendStream, MemoryReceiveStream]:
    return memory_stream_one_way_pair()


async def memory_two_way() -> tuple[HalfCloseableStream, HalfCloseableStream]:
    return memory_stream_pair()


async def lockstep_one_way() -> tuple[SendStream, ReceiveStream]:
    return lockstep_stream_one_way_pair()


async def lockstep_two_way() -> tuple[HalfCloseableStream, HalfCloseableStream]:
    return lockstep_stream_pair()


async def stapled_memory_pipes() -> tuple[Stream, Stream]:
    # Built by hand from one-way pairs, as a user would staple two pipes.
    a_to_b, b_from_a = memory_stream_one_way_pair()
    b_to_a, a_from_b = memory_stream_one_way_pair()
    return nursery.StapledStream(a_to_b, a_from_b), nursery.StapledStream(b_to_a, b_from_a)


async def test_memory_streams() -> None:
    await check_one_way_stream(memory_one_way, None)
    await check_two_way_stream(memory_two_way, None)
    await check_half_closeable_stream(memory_two_way, None)


async def test_lockstep_streams() -> None:
    # A lockstep stream is always clogged: send_all waits for a receiver.
    await check_one_way_stream(lockstep_one_way, lockstep_one_way)
    await check_two_way_stream(lockstep_two_way, lockstep_two_way)


async def test_lockstep_streams_half_closeable_without_clogged_checks() -> None:
    # Their send_eof is StapledStream's: it closes the send half, which takes no
    # part in conflict detection, so only the unclogged half-close checks apply.
    await check_half_closeable_stream(lockstep_two_way, None)


async def test_stapled_stream_of_memory_pipes() -> None:
    await check_two_way_stream(stapled_memory_pipes, None)
