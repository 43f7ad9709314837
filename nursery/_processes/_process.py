"""The run's handle on one worker process: start it, carry one call out over its socket
without blocking the run, and end it (politely when idle, with SIGKILL otherwise).

Why "spawn" and not fork: a forked child gets a copy of the parent's memory but only of
the thread that forked. The run's process has other threads (``to_thread`` workers,
the user's own), and any lock one of them held at the moment of the fork (a logging
handler's, a stdio buffer's, one inside a C library) stays locked forever in the
child, which then deadlocks at random. "spawn" starts a fresh interpreter instead
(fork immediately followed by exec, with no Python code in between), which imports
what the call needs. "forkserver" would make each start cheaper, but it keeps a server
process alive for the rest of the interpreter's life; workers are reused, so starts
are rare enough.

The socket: an ``AF_UNIX`` stream socketpair, what ``multiprocessing.Pipe()`` uses on
Unix, with our own framing (``_protocol``) so that the run can read and write it
without blocking, waiting with ``wait_readable``/``wait_writable`` (no thread per
call). Both ends are created close-on-exec: the worker receives its end through
multiprocessing's fd passing, and no other worker inherits it, so the run sees end of
file as soon as its worker dies.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from multiprocessing.connection import Connection

from .._core._exceptions import BrokenResourceError
from ..lowlevel import notify_closing, wait_readable, wait_writable
from ._errors import BrokenWorkerError
from ._protocol import HEADER, describe
from ._worker import worker_main

_CONTEXT = multiprocessing.get_context("spawn")

# How long a retired worker may take to exit after its socket is closed, before it is
# killed. An idle worker only has to notice end of file and call os._exit.
RETIRE_GRACE = 2.0


class WorkerProcess:
    """One worker process and the run's end of its socket."""

    __slots__ = ("_ended", "_process", "_sock", "idle_since", "pid")

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket) -> None:
        self._process = process
        self._sock = sock
        pid = process.pid
        assert pid is not None
        self.pid: int = pid
        self.idle_since = 0.0  # on the run's clock; set by the pool
        self._ended = False  # reaped, and its Process closed

    @classmethod
    def start(cls) -> WorkerProcess:
        """Start a worker. Returns at once: the worker imports its modules while the
        first request already waits in its socket."""
        ours, theirs = socket.socketpair()
        try:
            connection = Connection(theirs.detach())
            try:
                process = _CONTEXT.Process(
                    target=worker_main,
                    args=(connection, os.getpid()),
                    name="nursery.to_process worker",
                    # Daemonic: if the interpreter exits while a run still has
                    # workers (a run in a daemon thread), multiprocessing terminates
                    # them instead of waiting for them forever. The price: a worker
                    # cannot start processes itself.
                    daemon=True,
                )
                process.start()
            finally:
                connection.close()  # the worker has its own copy now
            ours.setblocking(False)
        except BaseException:
            ours.close()
            raise
        return cls(process, ours)

    def __repr__(self) -> str:
        return f"<to_process worker pid={self.pid}>"

    def is_alive(self) -> bool:
        return self._process.is_alive()

    async def call(self, request: bytes, fn: object) -> bytearray:
        """Send a request and return the reply's payload. A checkpoint (the wait for the
        reply always yields). ``BrokenWorkerError`` if the worker dies first. Whoever
        catches any exception from here must ``kill()`` the worker: a half-sent request
        or an unread reply leaves the socket out of step."""
        sock = self._sock
        try:
            view = memoryview(request)
            while view:
                try:
                    view = view[sock.send(view) :]
                except BlockingIOError:
                    await wait_writable(sock)
            await wait_readable(sock)
            header = await self._receive_exactly(HEADER.size)
            if header is not None:
                (length,) = HEADER.unpack(header)
                payload = await self._receive_exactly(length)
                if payload is not None:
                    return payload
        except (ConnectionError, BrokenResourceError) as exc:
            raise self._broken(fn) from exc
        raise self._broken(fn)

    async def _receive_exactly(self, size: int) -> bytearray | None:
        sock = self._sock
        buffer = bytearray(size)
        view = memoryview(buffer)
        received = 0
        while received < size:
            try:
                count = sock.recv_into(view[received:])
            except BlockingIOError:
                await wait_readable(sock)
                continue
            if count == 0:
                return None  # end of file: the worker is gone
            received += count
        return buffer

    def _broken(self, fn: object) -> BrokenWorkerError:
        self._close_socket()
        # End of file comes as the worker's process exits: it is a zombie already, or
        # about to be.
        self._process.join(RETIRE_GRACE)
        code = self._process.exitcode
        if code is None:
            how = "it closed its connection (and was then killed)"
            self._process.kill()
            self._process.join()
        elif code < 0:
            try:
                how = f"it was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"it was killed by signal {-code}"
        else:
            how = f"it exited with code {code}"
        self._end()
        return BrokenWorkerError(
            f"worker process {self.pid} died during the call to {describe(fn)}: {how}"
        )

    def kill(self) -> None:
        """SIGKILL the worker and reap it, now. For a worker whose state is unknown: in
        the middle of a call, cancelled, or already dead (and maybe reaped)."""
        self._close_socket()
        if not self._ended:
            self._process.kill()
            self._process.join()
            self._end()

    def close_connection(self) -> None:
        """First half of retiring an idle worker: it sees end of file and exits."""
        self._close_socket()

    def finish_retiring(self) -> None:
        """Second half: reap the worker (killing it if it does not exit in time)."""
        self._process.join(RETIRE_GRACE)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._end()

    def _end(self) -> None:
        self._ended = True
        self._process.close()  # closes its sentinel fd

    def _close_socket(self) -> None:
        if self._sock.fileno() != -1:
            notify_closing(self._sock)
            self._sock.close()
