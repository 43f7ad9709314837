"""wait_readable / wait_writable / notify_closing on socketpair file descriptors."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import nursery
from nursery.lowlevel import notify_closing, wait_readable, wait_writable
from nursery.testing import MockClock, wait_all_tasks_blocked

Waiter = Callable[[Any], Coroutine[Any, Any, None]]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    with a, b:
        yield a, b


def fill_send_buffer(sock: socket.socket) -> None:
    """Write until the socket is no longer writable."""
    try:
        while True:
            sock.send(b"x" * 65536)
    except BlockingIOError:
        pass


@pytest.mark.parametrize("as_fd", [False, True], ids=["socket", "fileno"])
async def test_wait_readable_blocks_until_data_arrives(
    pair: tuple[socket.socket, socket.socket], as_fd: bool
) -> None:
    a, b = pair
    log: list[str] = []

    async def reader() -> None:
        await wait_readable(a.fileno() if as_fd else a)
        log.append(a.recv(10).decode())

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()
        assert log == []
        b.send(b"hello")
    assert log == ["hello"]


async def test_wait_readable_returns_when_data_is_already_there(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    b.send(b"ready")
    await wait_readable(a)
    assert a.recv(10) == b"ready"


async def test_wait_readable_wakes_on_peer_close(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair

    async def reader() -> None:
        await wait_readable(a)

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()
        b.shutdown(socket.SHUT_WR)  # EOF makes the other end readable
    assert a.recv(10) == b""


@pytest.mark.parametrize("as_fd", [False, True], ids=["socket", "fileno"])
async def test_wait_writable_on_a_fresh_socket_returns(
    pair: tuple[socket.socket, socket.socket], as_fd: bool
) -> None:
    a, _ = pair
    await wait_writable(a.fileno() if as_fd else a)


async def test_wait_writable_blocks_until_the_buffer_drains(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    fill_send_buffer(a)
    log: list[str] = []

    async def writer() -> None:
        await wait_writable(a)
        log.append("writable")

    async with nursery.open_nursery() as n:
        n.start_soon(writer)
        await wait_all_tasks_blocked()
        assert log == []
        try:
            while True:
                b.recv(65536)
        except BlockingIOError:
            pass
    assert log == ["writable"]


async def test_reader_and_writer_can_wait_on_one_fd_at_once(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    fill_send_buffer(a)
    log: list[str] = []

    async def wait_and_log(wait: Waiter, name: str) -> None:
        await wait(a)
        log.append(name)

    async with nursery.open_nursery() as n:
        n.start_soon(wait_and_log, wait_readable, "read")
        n.start_soon(wait_and_log, wait_writable, "write")
        await wait_all_tasks_blocked()
        b.send(b"x")
        await wait_all_tasks_blocked()
        assert log == ["read"]
        try:
            while True:
                b.recv(65536)
        except BlockingIOError:
            pass
    assert log == ["read", "write"]


@pytest.mark.parametrize("wait", [wait_readable, wait_writable])
async def test_second_waiter_in_the_same_direction_is_busy(
    pair: tuple[socket.socket, socket.socket], wait: Waiter
) -> None:
    a, _ = pair
    fill_send_buffer(a)
    async with nursery.open_nursery() as n:
        n.start_soon(wait, a)
        await wait_all_tasks_blocked()
        with pytest.raises(nursery.BusyResourceError):
            await wait(a)
        # The first waiter is undisturbed.
        assert len(n.child_tasks) == 1
        n.cancel_scope.cancel()


@pytest.mark.parametrize("wait", [wait_readable, wait_writable])
async def test_notify_closing_wakes_waiters_with_closed_resource_error(
    pair: tuple[socket.socket, socket.socket], wait: Waiter
) -> None:
    a, _ = pair
    fill_send_buffer(a)
    errors: list[BaseException] = []

    async def waiter() -> None:
        try:
            await wait(a)
        except nursery.ClosedResourceError as exc:
            errors.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        notify_closing(a)
    assert len(errors) == 1


async def test_notify_closing_wakes_both_directions(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, _ = pair
    fill_send_buffer(a)
    errors: list[str] = []

    async def waiter(wait: Waiter, name: str) -> None:
        try:
            await wait(a)
        except nursery.ClosedResourceError:
            errors.append(name)

    async with nursery.open_nursery() as n:
        n.start_soon(waiter, wait_readable, "read")
        n.start_soon(waiter, wait_writable, "write")
        await wait_all_tasks_blocked()
        notify_closing(a.fileno())
    assert sorted(errors) == ["read", "write"]


async def test_notify_closing_without_waiters_is_harmless(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    notify_closing(a)
    # The fd can still be waited on afterwards (until it is really closed).
    b.send(b"x")
    await wait_readable(a)


async def test_cancelled_wait_can_be_retried(pair: tuple[socket.socket, socket.socket]) -> None:
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
    # The cancelled waiter is gone: a new one is not "busy", and it works.
    b.send(b"x")
    await wait_readable(a)


async def test_fd_closed_without_notice_does_not_hang_the_loop(
    autojump_clock: MockClock,
) -> None:
    a, b = socket.socketpair()
    fd = a.fileno()
    finished: list[str] = []

    async def reader() -> None:
        with nursery.move_on_after(10):
            try:
                await wait_readable(fd)
            except OSError:
                pass  # also acceptable: told the fd went bad
        finished.append("reader")

    async def bystander() -> None:
        await nursery.sleep(5)
        finished.append("bystander")

    try:
        async with nursery.open_nursery() as n:
            n.start_soon(reader)
            await wait_all_tasks_blocked()
            a.close()  # no notify_closing first
            n.start_soon(bystander)
    finally:
        b.close()
    assert sorted(finished) == ["bystander", "reader"]


async def test_fd_number_reused_after_unannounced_close_can_be_waited_on(
    autojump_clock: MockClock,
) -> None:
    a, b = socket.socketpair()
    c, d = socket.socketpair()  # made first, so neither can take a's number
    fd = a.fileno()
    with b, c, d:
        with nursery.move_on_after(1):
            await wait_readable(fd)  # registers fd, then times out
        a.close()  # no notify_closing first
        # Make the old number name a new, readable socket.
        os.dup2(c.fileno(), fd)
        with socket.socket(fileno=fd):
            d.send(b"x")
            # With the autojump clock a hang becomes TooSlowError instead.
            with nursery.fail_after(100):
                await wait_readable(fd)
