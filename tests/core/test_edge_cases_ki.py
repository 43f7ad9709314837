"""Edge cases of KeyboardInterrupt delivery and of the SIGINT handler's installation.

Every SIGINT here is raised by the test itself, synchronously, so nothing depends on
timing. Tests that need the run to install its handler are skipped where SIGINT
already has a custom handler.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import outcome
import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import (
    Abort,
    RaiseCancelT,
    cancel_shielded_checkpoint,
    checkpoint,
    current_task,
    current_token,
    currently_ki_protected,
    enable_ki_protection,
    reschedule,
    wait_task_rescheduled,
)

default_sigint_only = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT has a custom handler in this process",
)


def send_sigint() -> None:
    signal.raise_signal(signal.SIGINT)


@pytest.fixture
def restore_sigint() -> Iterator[None]:
    saved = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, saved)


# ---------------------------------------------------------------- delivery


@default_sigint_only
def test_sigint_before_the_main_task_exists_reaches_it() -> None:
    class InterruptsBeforeRun(Instrument):
        def before_run(self) -> None:
            send_sigint()  # the run's own (protected) code is on the stack

    reached: list[str] = []

    async def main() -> None:
        reached.append("main started")
        await nursery.sleep_forever()

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main, instruments=[InterruptsBeforeRun()])
    assert reached == ["main started"]


@default_sigint_only
def test_sigint_pending_when_the_main_task_blocks_is_delivered_through_abort() -> None:
    seen: list[BaseException] = []

    @enable_ki_protection
    async def main() -> None:
        task = current_task()

        def abort(raise_cancel: RaiseCancelT) -> Abort:
            try:
                raise_cancel()
            except BaseException as exc:
                seen.append(exc)
                # Keep the wait going, and hand the interrupt over a moment later.
                current_token().run_sync_soon(reschedule, task, outcome.Error(exc))
            return Abort.FAILED

        send_sigint()  # protected: recorded, not raised
        await wait_task_rescheduled(abort)

    with pytest.raises(KeyboardInterrupt) as info:
        nursery.run(main)
    (exc,) = seen
    assert type(exc) is KeyboardInterrupt
    assert info.value is exc


@default_sigint_only
def test_cancel_shielded_checkpoints_are_not_where_ki_is_delivered() -> None:
    progress: list[int] = []

    @enable_ki_protection
    async def main() -> None:
        send_sigint()
        # Enough schedule points for the loop to poll for I/O and run the entry
        # queue's KI delivery while this task is still runnable.
        for index in range(200):
            await cancel_shielded_checkpoint()
            progress.append(index)
        await checkpoint()
        progress.append(-1)  # pragma: no cover

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main)
    assert progress == list(range(200))


@default_sigint_only
def test_ki_pending_when_the_main_task_fails_is_raised_with_the_failure_as_context() -> None:
    failure = ValueError("main failed before reaching a checkpoint")

    @enable_ki_protection
    async def main() -> None:
        send_sigint()
        raise failure

    with pytest.raises(KeyboardInterrupt) as info:
        nursery.run(main)
    assert info.value.__context__ is failure


# ---------------------------------------------------------------- installing the handler


def test_run_in_another_thread_leaves_sigint_alone() -> None:
    seen: list[Any] = []
    before = signal.getsignal(signal.SIGINT)

    async def main() -> None:
        seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=nursery.run, args=(main,))
    thread.start()
    thread.join()
    assert seen == [before]


def test_custom_sigint_handler_is_left_in_place(restore_sigint: None) -> None:
    calls: list[str] = []

    def custom(signum: int, frame: FrameType | None) -> None:
        calls.append("custom")

    signal.signal(signal.SIGINT, custom)

    async def main() -> str:
        assert signal.getsignal(signal.SIGINT) is custom
        send_sigint()  # handled by the custom handler: no KeyboardInterrupt
        await checkpoint()
        return "finished"

    assert nursery.run(main) == "finished"
    assert calls == ["custom"]
    assert signal.getsignal(signal.SIGINT) is custom


@default_sigint_only
def test_handler_replaced_during_the_run_is_not_overwritten(restore_sigint: None) -> None:
    def replacement(signum: int, frame: FrameType | None) -> None:
        pass  # pragma: no cover

    async def main() -> None:
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        signal.signal(signal.SIGINT, replacement)

    nursery.run(main)
    assert signal.getsignal(signal.SIGINT) is replacement


# ---------------------------------------------------------------- protection markers


def test_currently_ki_protected_outside_a_run_is_false() -> None:
    assert not currently_ki_protected()


async def test_protection_can_mark_a_property_getter() -> None:
    class Thing:
        @enable_ki_protection  # type: ignore[prop-decorator]
        @property
        def protected(self) -> bool:
            return currently_ki_protected()

        @property
        def unprotected(self) -> bool:
            return currently_ki_protected()

    thing = Thing()
    assert thing.protected is True
    assert thing.unprotected is False


@pytest.mark.parametrize("thing", [len, 42, print], ids=["builtin", "int", "print"])
def test_protection_of_something_without_python_code_is_a_type_error(
    thing: Callable[..., Any],
) -> None:
    with pytest.raises(TypeError, match="Python function"):
        enable_ki_protection(thing)
