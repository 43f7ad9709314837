"""Each conformance checker rejects streams with a bug in its part of the contract.

toy_streams.py is a stream written for this: correct by default (every checker passes
it), with plausible bugs switched on one at a time. Every bug must make the checker
fail with an AssertionError naming the broken promise; none may slip through or hang.
"""

from __future__ import annotations

import pytest
from toy_streams import BUGS, one_way_maker, two_way_maker

import nursery
from nursery.testing import (
    MockClock,
    check_half_closeable_stream,
    check_one_way_stream,
    check_two_way_stream,
)

# bug -> what the failure message says (a fragment)
ONE_WAY_BUGS = {
    "empty_send_is_not_a_checkpoint": "send_all is not a checkpoint",
    "keeps_a_reference_to_sent_data": "not a prefix",
    "send_is_not_exclusive": "expected BusyResourceError",
    "send_after_close_is_accepted": "send_all after aclose",
    "closed_receiver_does_not_break_sender": "expected BrokenResourceError",
    "send_all_swallows_cancellation": "instead of raising Cancelled",
    "close_does_not_wake_blocked_send": "still blocked after another task closed",
    "wait_never_blocks": "should block while nobody receives",
    "wait_does_not_checkpoint": "wait_send_all_might_not_block is not a checkpoint",
    "receive_ignores_max_bytes": r"receive_some\(1\) returned 3 bytes",
    "max_bytes_is_not_validated": r"receive_some\(0\): expected ValueError",
    "receive_is_not_exclusive": "concurrent receive_some was still blocked",
    "receive_after_close_is_accepted": "receive_some after aclose",
    "close_does_not_wake_blocked_receive": "receive_some was still blocked",
    "cancelled_receive_loses_data": "after a receive_some was cancelled",
    "end_of_stream_is_reported_once": "after the end of the stream",
    "receives_chunks_newest_first": "not a prefix",
    "aclose_is_not_a_checkpoint": "aclose of the send stream is not a checkpoint",
    "second_aclose_raises": "may have closed already",
    "cancelled_aclose_leaves_it_open": "after an aclose that was cancelled",
}

TWO_WAY_BUGS = {
    "send_and_receive_share_one_lock": "both directions at once: raised BusyResourceError",
    "corrupts_large_sends": "the data received differs",
}

HALF_CLOSE_BUGS = {
    "send_eof_is_not_a_checkpoint": "send_eof is not a checkpoint",
    "send_after_send_eof_is_accepted": "send_all after send_eof",
    "second_send_eof_raises": "a second send_eof",
    "send_eof_closes_receiving_too": "after its own stream's send_eof",
    "send_eof_is_not_exclusive": "send_eof while send_all was blocked",
}


def test_every_bug_is_listed() -> None:
    assert set(ONE_WAY_BUGS) | set(TWO_WAY_BUGS) | set(HALF_CLOSE_BUGS) == BUGS


async def test_the_toy_stream_without_bugs_passes() -> None:
    await check_one_way_stream(one_way_maker(), one_way_maker(lockstep=True))
    await check_half_closeable_stream(two_way_maker(), two_way_maker(lockstep=True))
    await check_half_closeable_stream(two_way_maker(lockstep=True), two_way_maker(lockstep=True))


@pytest.mark.parametrize(("bug", "message"), sorted(ONE_WAY_BUGS.items()))
async def test_check_one_way_stream_catches(
    bug: str, message: str, autojump_clock: MockClock
) -> None:
    with nursery.fail_after(100), pytest.raises(AssertionError, match=message):
        await check_one_way_stream(one_way_maker(bug), one_way_maker(bug, lockstep=True))


@pytest.mark.parametrize(("bug", "message"), sorted((ONE_WAY_BUGS | TWO_WAY_BUGS).items()))
async def test_check_two_way_stream_catches(
    bug: str, message: str, autojump_clock: MockClock
) -> None:
    with nursery.fail_after(100), pytest.raises(AssertionError, match=message):
        await check_two_way_stream(two_way_maker(bug), two_way_maker(bug, lockstep=True))


@pytest.mark.parametrize(
    ("bug", "message"), sorted((ONE_WAY_BUGS | TWO_WAY_BUGS | HALF_CLOSE_BUGS).items())
)
async def test_check_half_closeable_stream_catches(
    bug: str, message: str, autojump_clock: MockClock
) -> None:
    with nursery.fail_after(100), pytest.raises(AssertionError, match=message):
        await check_half_closeable_stream(two_way_maker(bug), two_way_maker(bug, lockstep=True))


async def test_clogged_checks_need_a_clogged_maker() -> None:
    # Without a clogged maker, the bugs that only show when send_all blocks go unseen:
    # the clogged maker is what makes those checks possible.
    await check_one_way_stream(one_way_maker("close_does_not_wake_blocked_send"), None)


async def test_a_maker_returning_the_wrong_things() -> None:
    async def not_a_pair() -> object:
        return nursery.testing.memory_stream_one_way_pair()[0]

    async def receive_first() -> object:
        send, receive = nursery.testing.memory_stream_one_way_pair()
        return receive, send

    with pytest.raises(AssertionError, match="must return a pair"):
        await check_one_way_stream(not_a_pair, None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="must be a SendStream"):
        await check_one_way_stream(receive_first, None)  # type: ignore[arg-type]


async def test_failures_are_plain_assertion_errors_not_groups() -> None:
    # The failure happens inside a nursery; the checker still raises it bare.
    with pytest.raises(AssertionError) as info:
        await check_one_way_stream(one_way_maker("receive_is_not_exclusive"), None)
    assert type(info.value) is AssertionError


async def test_an_outside_cancellation_is_not_reported_as_a_failure() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        await check_half_closeable_stream(two_way_maker(), None)
    assert scope.cancelled_caught
