"""KeyboardInterrupt (SIGINT) delivery and KI protection.

Every test raises SIGINT itself, from inside the run, so nothing depends on
timing. They run only where SIGINT has Python's default handler: a run installs
its own handler only in that case.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

import nursery
from nursery.lowlevel import (
    checkpoint,
    currently_ki_protected,
    disable_ki_protection,
    enable_ki_protection,
)
from nursery.testing import wait_all_tasks_blocked

pytestmark = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="SIGINT has a custom handler in this process",
)


def send_sigint() -> None:
    signal.raise_signal(signal.SIGINT)


# ---------------------------------------------------------------- delivery


def test_sigint_in_unprotected_code_raises_at_once() -> None:
    async def main() -> str:
        try:
            send_sigint()
        except KeyboardInterrupt:
            return "raised where the signal arrived"
        return "not raised"  # pragma: no cover

    assert nursery.run(main) == "raised where the signal arrived"


def test_sigint_in_protected_code_is_delivered_at_the_next_checkpoint() -> None:
    log: list[str] = []

    @enable_ki_protection
    async def main() -> None:
        send_sigint()
        log.append("protected code went on")
        try:
            await checkpoint()
        except KeyboardInterrupt:
            log.append("delivered at checkpoint")
            raise

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main)
    assert log == ["protected code went on", "delivered at checkpoint"]


def test_sigint_pending_when_the_main_task_returns_still_raises() -> None:
    @enable_ki_protection
    async def main() -> str:
        send_sigint()
        return "finished without a checkpoint"

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main)


def test_restricting_ki_to_checkpoints() -> None:
    log: list[str] = []

    async def main() -> None:
        send_sigint()
        log.append("unprotected code went on")
        await checkpoint()

    with pytest.raises(KeyboardInterrupt):
        nursery.run(main, restrict_keyboard_interrupt_to_checkpoints=True)
    assert log == ["unprotected code went on"]


def test_sigint_from_a_protected_child_wakes_the_sleeping_main_task() -> None:
    log: list[str] = []

    @enable_ki_protection
    async def child() -> None:
        await wait_all_tasks_blocked()
        send_sigint()

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(child)
            try:
                await nursery.sleep_forever()
            except KeyboardInterrupt:
                log.append("main task got it")
                raise

    with pytest.raises(BaseExceptionGroup) as info:
        nursery.run(main)
    assert log == ["main task got it"]
    assert [type(e) for e in info.value.exceptions] == [KeyboardInterrupt]


def test_sigint_while_waiting_for_children_cancels_them() -> None:
    # The main task is blocked in its nursery's __aexit__; the interrupt is
    # recorded as the nursery's error and its children are cancelled.
    sources: list[str] = []

    async def sleeper() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled as exc:
            sources.append(exc.source)
            raise

    @enable_ki_protection
    async def interrupter() -> None:
        await wait_all_tasks_blocked()
        send_sigint()

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(sleeper)
            n.start_soon(interrupter)

    with pytest.raises(BaseExceptionGroup) as info:
        nursery.run(main)
    assert sources == ["KeyboardInterrupt"]
    assert [type(e) for e in info.value.exceptions] == [KeyboardInterrupt]


def test_sigint_from_another_thread_interrupts_a_blocked_run() -> None:
    # Whether the signal lands while the main task runs or while the loop
    # waits for I/O, the run ends with KeyboardInterrupt.
    threads: list[threading.Thread] = []

    async def main() -> None:
        thread = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        threads.append(thread)
        thread.start()
        await nursery.sleep_forever()

    try:
        with pytest.raises(KeyboardInterrupt):
            nursery.run(main)
    finally:
        for thread in threads:
            thread.join()


def test_sigint_handler_is_restored_after_the_run() -> None:
    async def main() -> None:
        await checkpoint()

    nursery.run(main)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------- protection state


async def test_main_task_is_not_protected() -> None:
    assert not currently_ki_protected()


async def test_enable_ki_protection_on_an_async_function() -> None:
    @enable_ki_protection
    async def protected() -> bool:
        await checkpoint()
        return currently_ki_protected()

    assert await protected()
    assert not currently_ki_protected()


async def test_enable_and_disable_on_sync_functions() -> None:
    @disable_ki_protection
    def unprotected() -> bool:
        return currently_ki_protected()

    @enable_ki_protection
    def protected() -> tuple[bool, bool]:
        return currently_ki_protected(), unprotected()

    assert protected() == (True, False)


async def test_protection_is_inherited_by_plain_callees() -> None:
    def plain() -> bool:
        return currently_ki_protected()

    @enable_ki_protection
    def protected() -> bool:
        return plain()

    assert protected()
    assert not plain()


async def test_protection_on_generators() -> None:
    @enable_ki_protection
    def gen() -> Iterator[bool]:
        yield currently_ki_protected()

    @enable_ki_protection
    async def agen() -> AsyncIterator[bool]:
        yield currently_ki_protected()

    assert list(gen()) == [True]
    assert [x async for x in agen()] == [True]


async def test_protected_code_is_not_interrupted() -> None:
    log: list[str] = []

    @enable_ki_protection
    def critical_section() -> None:
        send_sigint()
        log.append("finished critical section")

    with pytest.raises(KeyboardInterrupt):
        critical_section()
        await checkpoint()
    assert log == ["finished critical section"]
