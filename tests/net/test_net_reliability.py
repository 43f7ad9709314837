"""Reliability of the networking layer under load and under pressure, on real loopback
sockets: thousands of concurrent connections, running out of file descriptors, a peer
that never reads, and cancellation at every step of a connect. Each test checks that
the process's open file descriptors come back to where they started.

The slow ones are marked ``slow``; they still run by default (deselect them with
``-m "not slow"``).
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import nursery
import nursery.socket as nsocket
from nursery import SocketListener, SocketStream, open_tcp_listeners, open_tcp_stream
from nursery.testing import MockClock, wait_all_tasks_blocked, wait_all_threads_completed


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextmanager
def nofile_soft_limit(limit: int) -> Iterator[None]:
    """Set RLIMIT_NOFILE's soft limit for the duration (it must stay within the hard
    limit, which only root may raise)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def echo(stream: SocketStream) -> None:
    async for chunk in stream:
        await stream.send_all(chunk)


async def loopback_listener() -> SocketListener:
    (listener,) = await open_tcp_listeners(0, host="127.0.0.1")
    return listener


async def receive_exactly(stream: SocketStream, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = await stream.receive_some(size - len(data))
        assert chunk, "the peer closed early"
        data += chunk
    return bytes(data)


# -- many connections --------------------------------------------------------------------

CONNECTIONS = 2000


@pytest.mark.slow
async def test_thousands_of_concurrent_echo_connections() -> None:
    needed = 2 * CONNECTIONS + open_fds() + 100  # a client and a server fd each
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed}")
    with nofile_soft_limit(max(soft, needed)):
        baseline = open_fds()
        listener = await loopback_listener()
        port = listener.socket.getsockname()[1]
        answered = 0
        all_connected = nursery.Event()
        connected = 0

        async def client(i: int) -> None:
            nonlocal answered, connected
            message = f"client {i:05d} ".encode() * 8
            async with await open_tcp_stream("127.0.0.1", port) as stream:
                # Hold every connection open until all of them are: truly concurrent.
                connected += 1
                if connected == CONNECTIONS:
                    all_connected.set()
                await all_connected.wait()
                await stream.send_all(message)
                assert await receive_exactly(stream, len(message)) == message
            answered += 1

        async with nursery.open_nursery() as server:
            await server.start(nursery.serve_listeners, echo, [listener])
            async with nursery.open_nursery() as clients:
                for i in range(CONNECTIONS):
                    clients.start_soon(client, i)
            server.cancel_scope.cancel()
        assert answered == CONNECTIONS
        assert open_fds() == baseline


# -- running out of file descriptors --------------------------------------------------------


class RecordingHandler(logging.Handler):
    def __init__(self, wanted: int) -> None:
        super().__init__(logging.ERROR)
        self.times: list[float] = []
        self.records: list[logging.LogRecord] = []
        self.wanted = wanted
        self.enough = nursery.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.times.append(nursery.current_time())
        if len(self.records) >= self.wanted:
            self.enough.set()


def lowest_free_fd() -> int:
    fd = os.open(os.devnull, os.O_RDONLY)  # the kernel always hands out the lowest
    os.close(fd)
    return fd


async def test_serve_listeners_survives_emfile(autojump_clock: MockClock) -> None:
    baseline = open_fds()
    listener = await loopback_listener()
    listener_fd = listener.socket.fileno()
    port = listener.socket.getsockname()[1]
    logger = logging.getLogger("nursery.serve_listeners")
    recorder = RecordingHandler(wanted=3)
    logger.addHandler(recorder)
    clients: list[nsocket.SocketType] = []
    try:
        async with nursery.open_nursery() as server:
            await server.start(nursery.serve_listeners, echo, [listener])
            # Make the client sockets first: once the limit is down, not one more fd
            # can be opened (every number below the limit is taken), so the server's
            # accept() fails with EMFILE while the clients still connect.
            for _ in range(5):
                clients.append(nsocket.socket())
            with nofile_soft_limit(lowest_free_fd()):
                with pytest.raises(OSError) as info:
                    nsocket.socket()
                assert info.value.errno == errno.EMFILE
                for client in clients:
                    await client.connect(("127.0.0.1", port))
                await recorder.enough.wait()
            # The errors were logged, 100 ms apart, and the server kept going.
            assert all("EMFILE" in r.getMessage() and r.exc_info for r in recorder.records)
            gaps = [b - a for a, b in zip(recorder.times, recorder.times[1:], strict=False)]
            assert all(gap == pytest.approx(0.1) for gap in gaps[:2])
            # File descriptors are free again: every waiting client is served, by the
            # same listener.
            for i, client in enumerate(clients):
                await client.send(b"ping %d" % i)
                assert await client.recv(100) == b"ping %d" % i
            assert listener.socket.fileno() == listener_fd
            async with await open_tcp_stream("127.0.0.1", port) as late:
                await late.send_all(b"late")
                assert await late.receive_some() == b"late"
            server.cancel_scope.cancel()
    finally:
        logger.removeHandler(recorder)
        for client in clients:
            client.close()
    assert open_fds() == baseline


# -- a peer that never reads ----------------------------------------------------------------


async def test_send_all_to_a_peer_that_never_reads_blocks_without_copying() -> None:
    baseline = open_fds()
    payload = bytes(32 * 1024 * 1024)  # far more than the kernel buffers
    listener = await loopback_listener()
    port = listener.socket.getsockname()[1]
    async with listener, await open_tcp_stream("127.0.0.1", port) as client:
        async with await listener.accept():  # ...and never read from it
            sending = False
            tracemalloc.start()
            try:
                async with nursery.open_nursery() as n:

                    async def sender() -> None:
                        nonlocal sending
                        sending = True
                        await client.send_all(payload)
                        sending = False

                    n.start_soon(sender)
                    await wait_all_tasks_blocked()
                    # It is blocked in send_all (flow control) ...
                    assert sending
                    # ... and holds no copy of what is left to send.
                    _, peak = tracemalloc.get_traced_memory()
                    assert peak < 1024 * 1024, f"peak {peak} bytes while sending"
                    n.cancel_scope.cancel()
            finally:
                tracemalloc.stop()
    assert open_fds() == baseline


# -- cancelling a connect at every step -------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_cancelling_open_tcp_stream_at_every_step_leaks_nothing(host: str) -> None:
    listener = await loopback_listener()
    port = listener.socket.getsockname()[1]
    async with listener:
        baseline_fds = open_fds()
        baseline_tasks = nursery.lowlevel.current_statistics().tasks_living
        outcomes = set()
        # Let the call run k scheduling steps, then cancel it; once k is large
        # enough the connect completes before the cancellation. How many steps that
        # takes for "localhost" depends on how fast a worker thread resolves it (real
        # time, on a shared machine): go on until both outcomes have been seen.
        for steps in range(5000):
            if outcomes == {"connected", "cancelled"}:
                break
            stream: SocketStream | None = None
            with nursery.CancelScope() as scope:

                async def cancel_after(k: int = steps) -> None:
                    for _ in range(k):
                        await nursery.lowlevel.cancel_shielded_checkpoint()
                    scope.cancel()

                async with nursery.open_nursery() as n:
                    n.start_soon(cancel_after)
                    stream = await open_tcp_stream(host, port)
                    n.cancel_scope.cancel()  # connected first: stop the canceller
            if stream is not None:
                outcomes.add("connected")
                await stream.aclose()
                # Drain the server side of the connection.
                await (await listener.accept()).aclose()
            else:
                outcomes.add("cancelled")
            await wait_all_threads_completed()  # an abandoned name lookup, if any
            assert open_fds() == baseline_fds, f"fd leaked when cancelled after {steps}"
            assert nursery.lowlevel.current_statistics().tasks_living == baseline_tasks
        assert outcomes == {"connected", "cancelled"}
