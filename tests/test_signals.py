"""open_signal_receiver: delivery, coalescing, nesting, handler restoration, errors.

Signals are sent to this very process with os.kill; the Python-level handler runs in
the main thread right after the call returns, so each test knows exactly which
signals are on their way before it awaits anything.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from types import FrameType

import pytest

import nursery
import nursery.lowlevel
from nursery import open_signal_receiver, to_thread
from nursery._signals import get_pending_signal_count
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked

USR1 = signal.SIGUSR1
USR2 = signal.SIGUSR2
HUP = signal.SIGHUP


class Recorder:
    """A plain Python handler that remembers what it got and wakes a waiting task."""

    def __init__(self) -> None:
        self.got: list[int] = []
        self.event = nursery.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.got.append(signum)
        self.event.set()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Installs a Recorder for USR1, USR2 and HUP (so a stray signal never kills the
    test process) and puts the original handlers back afterwards."""
    rec = Recorder()
    saved = {signum: signal.signal(signum, rec) for signum in (USR1, USR2, HUP)}
    try:
        yield rec
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


async def test_a_signal_is_delivered(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as receiver:
        os.kill(os.getpid(), USR1)
        with nursery.fail_after(5):
            assert await receiver.__anext__() == USR1
    assert recorder.got == []  # the receiver had it, not the previous handler


async def test_async_for(recorder: Recorder) -> None:
    got: list[int] = []
    with open_signal_receiver(USR1, USR2) as receiver:
        os.kill(os.getpid(), USR2)
        with nursery.fail_after(5):
            async for signum in receiver:
                got.append(signum)
                if signum == USR2:
                    os.kill(os.getpid(), USR1)
                else:
                    break
    assert got == [USR2, USR1]


async def test_repeats_are_coalesced_in_arrival_order(recorder: Recorder) -> None:
    with open_signal_receiver(USR1, USR2, HUP) as receiver:
        for signum in (USR2, USR1, USR2, USR2, USR1):
            os.kill(os.getpid(), signum)
        with nursery.fail_after(5):
            assert await receiver.__anext__() == USR2
            assert receiver._pending_signal_count() == 1
            assert await receiver.__anext__() == USR1
            assert get_pending_signal_count(receiver) == 0
            # Nothing else is pending: the next one read is the next one sent.
            os.kill(os.getpid(), HUP)
            assert await receiver.__anext__() == HUP
    assert recorder.got == []


async def test_a_signal_that_arrives_while_waiting_wakes_the_receiver(
    recorder: Recorder,
) -> None:
    got: list[int] = []
    with open_signal_receiver(USR1) as receiver:
        async with nursery.open_nursery() as n:

            async def receive_one() -> None:
                got.append(await receiver.__anext__())

            n.start_soon(receive_one)
            await wait_all_tasks_blocked()
            os.kill(os.getpid(), USR1)
    assert got == [USR1]


async def test_previous_handlers_are_restored(recorder: Recorder) -> None:
    with open_signal_receiver(USR1, USR2):
        assert signal.getsignal(USR1) is not recorder
        assert signal.getsignal(USR2) is not recorder
        assert signal.getsignal(HUP) is recorder  # not asked for, not touched
    assert signal.getsignal(USR1) is recorder
    assert signal.getsignal(USR2) is recorder
    os.kill(os.getpid(), USR1)
    assert recorder.got == [USR1]


async def test_default_handlers_are_restored_too() -> None:
    before = signal.getsignal(signal.SIGWINCH)
    with open_signal_receiver(signal.SIGWINCH):
        assert signal.getsignal(signal.SIGWINCH) is not before
    assert signal.getsignal(signal.SIGWINCH) is before


async def test_restored_even_when_the_block_raises(recorder: Recorder) -> None:
    with pytest.raises(ZeroDivisionError):
        with open_signal_receiver(USR1):
            1 / 0  # noqa: B018
    assert signal.getsignal(USR1) is recorder


async def test_unread_signals_go_to_the_previous_handler_on_exit(recorder: Recorder) -> None:
    with open_signal_receiver(USR1, USR2) as receiver:
        os.kill(os.getpid(), USR1)
        os.kill(os.getpid(), USR2)
        with nursery.fail_after(5):
            assert await receiver.__anext__() == USR1
        # USR2 came in the same batch and was not read.
    assert recorder.got == [USR2]


async def test_a_signal_still_on_its_way_at_exit_goes_to_the_previous_handler(
    recorder: Recorder,
) -> None:
    with open_signal_receiver(USR1):
        os.kill(os.getpid(), USR1)  # handed to the run, not yet to the receiver
    assert recorder.got == []
    with nursery.fail_after(5):
        await recorder.event.wait()
    assert recorder.got == [USR1]


async def test_nested_receivers_innermost_wins(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as outer:
        with open_signal_receiver(USR1) as inner:
            os.kill(os.getpid(), USR1)
            with nursery.fail_after(5):
                assert await inner.__anext__() == USR1
            os.kill(os.getpid(), USR1)  # unread by inner: the outer one gets it
        with nursery.fail_after(5):
            assert await outer.__anext__() == USR1
            os.kill(os.getpid(), USR1)
            assert await outer.__anext__() == USR1
    assert recorder.got == []
    assert signal.getsignal(USR1) is recorder


async def test_receivers_that_are_not_nested_leave_a_working_chain(
    recorder: Recorder,
) -> None:
    first = open_signal_receiver(USR1)
    second = open_signal_receiver(USR1)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # puts back the recorder, under the second's feet
    second.__exit__(None, None, None)  # puts back the first's handler, now closed
    os.kill(os.getpid(), USR1)
    with nursery.fail_after(5):
        await recorder.event.wait()
    # The closed receiver passed it on and repaired the chain.
    assert recorder.got == [USR1]
    assert signal.getsignal(USR1) is recorder


async def test_sigint_can_be_received() -> None:
    before = signal.getsignal(signal.SIGINT)
    with open_signal_receiver(signal.SIGINT) as receiver:
        os.kill(os.getpid(), signal.SIGINT)
        with nursery.fail_after(5):
            assert await receiver.__anext__() == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before


async def test_receiving_is_a_checkpoint(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as receiver:
        os.kill(os.getpid(), USR1)
        await wait_all_tasks_blocked()
        with assert_checkpoints():
            assert await receiver.__anext__() == USR1


async def test_cancelled_receive_loses_no_signal(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as receiver:
        os.kill(os.getpid(), USR1)
        with nursery.CancelScope() as scope:
            scope.cancel()
            await receiver.__anext__()
        assert scope.cancelled_caught
        with nursery.fail_after(5):
            assert await receiver.__anext__() == USR1


async def test_cancelled_while_parked_loses_no_signal(
    recorder: Recorder, autojump_clock: MockClock
) -> None:
    with open_signal_receiver(USR1) as receiver:
        with nursery.move_on_after(1) as scope:
            await receiver.__anext__()
        assert scope.cancelled_caught
        os.kill(os.getpid(), USR1)
        with nursery.fail_after(5):
            assert await receiver.__anext__() == USR1


async def test_two_tasks_iterating_is_busy(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as receiver:
        async with nursery.open_nursery() as n:
            n.start_soon(receiver.__anext__)
            await wait_all_tasks_blocked()
            with pytest.raises(nursery.BusyResourceError):
                await receiver.__anext__()
            n.cancel_scope.cancel()


async def test_iterating_after_exit_is_an_error(recorder: Recorder) -> None:
    with open_signal_receiver(USR1) as receiver:
        pass
    with pytest.raises(RuntimeError, match="exited"):
        await receiver.__anext__()
    assert "closed" in repr(receiver)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((), TypeError, "No signals were provided"),
        ((USR1, "SIGHUP"), TypeError, "argument 2"),
        ((USR1, 1.5), TypeError, "argument 2"),
        ((USR1, True), TypeError, "argument 2"),
        ((USR1, 0), ValueError, "argument 2"),
        ((USR1, signal.NSIG + 10), ValueError, "argument 2"),
        ((-3,), ValueError, "argument 1"),
        ((USR1, signal.SIGKILL), ValueError, "SIGKILL cannot be caught"),
        ((signal.SIGSTOP,), ValueError, "SIGSTOP cannot be caught"),
    ],
)
async def test_bad_arguments_change_no_handler(
    recorder: Recorder, args: tuple[object, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        with open_signal_receiver(*args):  # type: ignore[arg-type]
            pass  # pragma: no cover
    assert signal.getsignal(USR1) is recorder


async def test_only_in_the_main_thread(recorder: Recorder) -> None:
    def in_a_worker() -> None:
        with open_signal_receiver(USR1):
            pass  # pragma: no cover

    with pytest.raises(RuntimeError, match="main thread"):
        await to_thread.run_sync(in_a_worker)
    assert signal.getsignal(USR1) is recorder


def test_only_inside_a_run(recorder: Recorder) -> None:
    with pytest.raises(RuntimeError):
        with open_signal_receiver(USR1):
            pass  # pragma: no cover
    assert signal.getsignal(USR1) is recorder


async def test_a_handler_installed_outside_python_is_refused(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setattr(signal, "getsignal", lambda signum: None)
    with pytest.raises(RuntimeError, match="outside Python"):
        with open_signal_receiver(USR1):
            pass  # pragma: no cover
    monkeypatch.undo()
    assert signal.getsignal(USR1) is recorder


async def test_redelivery_raises_every_signal_even_if_a_handler_fails() -> None:
    got: list[int] = []

    def failing(signum: int, frame: FrameType | None) -> None:
        got.append(signum)
        raise ZeroDivisionError

    saved = {signum: signal.signal(signum, failing) for signum in (USR1, USR2, HUP)}
    try:
        with pytest.raises(ZeroDivisionError):
            with open_signal_receiver(USR1, USR2, HUP) as receiver:
                for signum in (HUP, USR1, USR2):
                    os.kill(os.getpid(), signum)
                with nursery.fail_after(5):
                    assert await receiver.__anext__() == HUP
        assert got == [USR1, USR2]
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


async def test_a_task_waiting_when_the_block_exits_is_told(recorder: Recorder) -> None:
    errors: list[str] = []

    async def wait_on(receiver: AsyncIterator[int]) -> None:
        try:
            await receiver.__anext__()
        except RuntimeError as exc:
            errors.append(str(exc))

    async with nursery.open_nursery() as n:
        with open_signal_receiver(USR1) as receiver:
            n.start_soon(wait_on, receiver)
            await wait_all_tasks_blocked()
    assert errors and "exited" in errors[0]


async def test_a_task_woken_just_before_the_block_exits_is_told(recorder: Recorder) -> None:
    errors: list[str] = []

    async def take(receiver: AsyncIterator[int]) -> None:
        try:
            await receiver.__anext__()
        except RuntimeError as exc:
            errors.append(str(exc))

    async with nursery.open_nursery() as n:
        with open_signal_receiver(USR1) as receiver:
            n.start_soon(take, receiver)
            await wait_all_tasks_blocked()
            # What the run does when USR1 arrives: take() is woken, but has not run
            # yet when the block exits (no await in between).
            receiver._deliver(USR1)
    # USR1 went back to the previous handler, and take() learnt the block was gone.
    assert recorder.got == [USR1]
    assert errors == ["the open_signal_receiver() block exited during the wait"]
