"""Edge cases of I/O waits and of the entry queue: bad file descriptors, descriptors
closed behind the kernel's back, stale readiness events, callbacks that queue or crash."""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from collections.abc import Iterator

import pytest

import nursery
from nursery.lowlevel import (
    current_token,
    notify_closing,
    wait_readable,
    wait_writable,
)
from nursery.testing import wait_all_tasks_blocked


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    with a, b:
        yield a, b


def fill_send_buffer(sock: socket.socket) -> None:
    try:
        while True:
            sock.send(b"x" * 65536)
    except BlockingIOError:
        pass


class HasFileno:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


# ---------------------------------------------------------------- what counts as a file descriptor


@pytest.mark.parametrize("wait", [wait_readable, wait_writable])
async def test_negative_fd_is_a_value_error(wait: object) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        await wait(-1)  # type: ignore[operator]


@pytest.mark.parametrize("wait", [wait_readable, wait_writable])
async def test_object_without_fileno_is_a_type_error(wait: object) -> None:
    with pytest.raises(TypeError, match="fileno"):
        await wait("not a file")  # type: ignore[operator]


async def test_object_with_fileno_is_waited_on_through_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    b.send(b"x")
    await wait_readable(HasFileno(a.fileno()))
    await wait_writable(HasFileno(a.fileno()))


async def test_fileno_returning_a_negative_number_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        await wait_readable(HasFileno(-5))


async def test_notify_closing_checks_its_argument_too() -> None:
    with pytest.raises(ValueError):
        notify_closing(-1)
    with pytest.raises(TypeError):
        notify_closing(object())  # type: ignore[arg-type]


# ---------------------------------------------------------------- descriptors that went bad


async def test_waiting_on_a_closed_fd_raises_os_error() -> None:
    a, b = socket.socketpair()
    b.close()
    fd = a.fileno()
    a.close()  # fd is now a number that names nothing
    with pytest.raises(OSError) as info:
        await wait_readable(fd)
    assert info.value.errno == errno.EBADF
    # The failed wait left nothing behind: a second one fails the same way rather
    # than finding the fd "busy".
    with pytest.raises(OSError) as info:
        await wait_readable(fd)
    assert info.value.errno == errno.EBADF


async def test_new_waiter_on_an_fd_closed_behind_our_back_wakes_the_old_one(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    fill_send_buffer(a)
    fd = os.dup(a.fileno())
    reader_got: list[OSError] = []

    async def reader() -> None:
        try:
            await wait_readable(fd)
        except OSError as exc:
            reader_got.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()
        os.close(fd)  # no notify_closing first: the kernel does not know
        # Arming the same number for writing fails; the reader that was waiting on
        # the dead fd is told, rather than left asleep forever.
        with pytest.raises(OSError) as info:
            await wait_writable(fd)
        assert info.value.errno == errno.EBADF
    (error,) = reader_got
    assert error.errno == errno.EBADF


async def test_cancelling_one_waiter_of_a_dead_fd_wakes_the_other(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    fill_send_buffer(a)
    fd = os.dup(a.fileno())
    reader_scope = nursery.CancelScope()
    outcomes: dict[str, object] = {}

    async def reader() -> None:
        with reader_scope:
            await wait_readable(fd)
        outcomes["reader"] = "cancelled" if reader_scope.cancelled_caught else "woke"

    async def writer() -> None:
        try:
            await wait_writable(fd)
        except OSError as exc:
            outcomes["writer"] = exc.errno
        else:  # pragma: no cover
            outcomes["writer"] = "woke"

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        n.start_soon(writer)
        await wait_all_tasks_blocked()
        assert nursery.lowlevel.current_statistics().io_statistics.tasks_waiting_write >= 1
        os.close(fd)
        # Undoing the reader's registration finds the fd gone: the writer is woken
        # with the error.
        reader_scope.cancel()
    assert outcomes == {"reader": "cancelled", "writer": errno.EBADF}


async def test_readiness_of_an_fd_nobody_waits_for_any_more_is_ignored(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    scope = nursery.CancelScope()

    async def reader() -> None:
        with scope:
            await wait_readable(a)

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()
        scope.cancel()
    assert scope.cancelled_caught
    # The cancelled wait left its registration armed: this data produces one event
    # for nobody, which the loop must drop without waking anyone.
    b.send(b"x")
    await wait_all_tasks_blocked()
    await wait_all_tasks_blocked()
    # And the fd can be waited on again as usual.
    await wait_readable(a)
    assert a.recv(10) == b"x"


async def test_notify_closing_of_fds_the_kernel_never_saw(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    notify_closing(a)  # open, but never registered
    spare = os.dup(b.fileno())
    os.close(spare)
    notify_closing(spare)  # names nothing at all


async def test_notify_closing_of_a_regular_file_is_harmless() -> None:
    with tempfile.TemporaryFile() as file:
        notify_closing(file.fileno())


async def test_waiting_on_a_regular_file_is_an_os_error() -> None:
    # epoll cannot watch regular files; the wait says so instead of hanging.
    with tempfile.TemporaryFile() as file:
        with pytest.raises(OSError) as info:
            await wait_readable(file.fileno())
        assert info.value.errno == errno.EPERM
        # Nothing was left registered: the next wait fails the same way, not "busy".
        with pytest.raises(OSError):
            await wait_readable(file.fileno())


# ---------------------------------------------------------------- the entry queue


async def test_callback_queued_by_a_callback_runs_too() -> None:
    token = current_token()
    order: list[str] = []

    def first() -> None:
        order.append("first")
        token.run_sync_soon(second)

    def second() -> None:
        order.append("second")

    token.run_sync_soon(first)
    await wait_all_tasks_blocked()
    assert order == ["first", "second"]


async def test_long_chain_of_callbacks_runs_in_order() -> None:
    token = current_token()
    order: list[int] = []

    def step(index: int) -> None:
        order.append(index)
        if index < 20:
            token.run_sync_soon(step, index + 1)

    token.run_sync_soon(step, 0)
    await wait_all_tasks_blocked()
    assert order == list(range(21))


async def test_run_token_repr() -> None:
    token = current_token()
    assert repr(token) == f"<RunToken at {id(token):#x}>"


def test_crashing_callback_after_the_main_task_returned() -> None:
    failure = ValueError("callback bug")

    def crash() -> None:
        raise failure

    async def main() -> str:
        current_token().run_sync_soon(crash)
        return "main finished fine"

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert info.value.__cause__ is failure
    # The main task succeeded: there is no error of its own to chain.
    assert info.value.__context__ is None


def test_first_crash_is_the_one_reported() -> None:
    first, second = ValueError("first"), KeyError("second")
    ran: list[str] = []

    def crash(exc: Exception) -> None:
        ran.append(type(exc).__name__)
        raise exc

    async def main() -> None:
        token = current_token()
        token.run_sync_soon(crash, first)
        token.run_sync_soon(crash, second)
        await nursery.sleep_forever()

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert ran == ["ValueError", "KeyError"]
    assert info.value.__cause__ is first


def test_crash_while_main_task_failed_chains_its_error() -> None:
    failure = ValueError("callback bug")
    main_error = KeyError("main failed too")

    def crash() -> None:
        raise failure

    async def main() -> None:
        current_token().run_sync_soon(crash)
        try:
            await nursery.sleep_forever()
        finally:
            raise main_error

    with pytest.raises(nursery.InternalError) as info:
        nursery.run(main)
    assert info.value.__cause__ is failure
    assert info.value.__context__ is main_error
