"""``SocketStream`` and ``SocketListener``: the byte-stream and listener interfaces of
``nursery.abc`` over a connected (or listening) ``SOCK_STREAM`` socket.

Errors cross the interface translated: an ``OSError`` saying the socket is gone
(``EBADF``, ``ENOTSOCK``: this side closed it) becomes ``ClosedResourceError``; any other
(``EPIPE``, ``ECONNRESET``, ...: the connection failed) becomes ``BrokenResourceError``
with the ``OSError`` as its cause.
"""

from __future__ import annotations

import errno
from contextlib import suppress
from typing import TYPE_CHECKING, overload

from . import socket as nsocket
from ._conflict import ConflictDetector
from ._core._exceptions import BrokenResourceError, ClosedResourceError
from ._core._traps import CHECKPOINT_TRAP
from .abc import HalfCloseableStream, Listener

if TYPE_CHECKING:
    from typing_extensions import Buffer

DEFAULT_RECEIVE_SIZE = 65536

# The errno values that mean "this socket is closed" rather than "the connection broke".
_CLOSED_ERRNOS = frozenset({errno.EBADF, errno.ENOTSOCK})

# accept() may report a failure of the *pending* connection it was about to return (the
# peer reset it, a route went away): the listener itself is fine, so accept() goes on to
# the next connection. The list is the one Linux's accept(2) page gives for TCP, plus
# ECONNABORTED (the BSD spelling) and EPERM (a firewall rule refused the connection).
_TRANSIENT_ACCEPT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "EPERM",
        "EPROTO",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
        "ENOSR",
        "ESOCKTNOSUPPORT",
        "EPROTONOSUPPORT",
        "ETIMEDOUT",
        "ECONNRESET",
    )
    if hasattr(errno, name)
)


def _translated(exc: OSError) -> Exception:
    """The stream-level error to raise for ``exc``, with its ``__cause__`` set (or not)
    as it should be raised. (Used with ``try``/``except`` rather than a context manager:
    this is on every send and receive, and a generator-based one costs a microsecond.)"""
    if exc.errno in _CLOSED_ERRNOS:
        return ClosedResourceError("this socket was already closed")
    broken = BrokenResourceError(f"socket connection broken: {exc}")
    broken.__cause__ = exc
    return broken


def _check_stream_socket(socket: object, what: str) -> nsocket.SocketType:
    if not isinstance(socket, nsocket.SocketType):
        raise TypeError(
            f"{what} requires a nursery.socket.SocketType (wrap a standard library socket "
            f"with nursery.socket.from_stdlib_socket()), got {socket!r}"
        )
    if socket.type != nsocket.SOCK_STREAM:
        raise ValueError(f"{what} requires a SOCK_STREAM socket")
    return socket


class SocketStream(HalfCloseableStream):
    """A ``HalfCloseableStream`` over a connected ``SOCK_STREAM`` socket (TCP, or a Unix
    stream socket). The stream owns the socket: ``aclose()`` closes it.

    For TCP it turns ``TCP_NODELAY`` on (no Nagle delay: ``send_all`` is already a
    whole message), and caps the unsent data the kernel keeps
    (``TCP_NOTSENT_LOWAT``) so that ``wait_send_all_might_not_block`` means something.
    """

    # No __slots__: users may stash attributes on a stream, as Trio allows.

    def __init__(self, socket: nsocket.SocketType) -> None:
        self.socket = _check_stream_socket(socket, "SocketStream")
        self._send_conflict = ConflictDetector(
            "another task is already sending on this SocketStream"
        )
        self._receive_conflict = ConflictDetector(
            "another task is already receiving on this SocketStream"
        )
        # Both fail with an OSError on sockets that are not TCP: nothing to do then.
        with suppress(OSError):
            self.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, True)
        with suppress(OSError):
            self.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NOTSENT_LOWAT, 2**14)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        socket = self.socket
        if socket.did_shutdown_SHUT_WR:
            raise ClosedResourceError("cannot send data after send_eof()")
        with self._send_conflict:
            try:
                # The common case, bytes that the kernel takes whole, costs one send()
                # and no memoryview.
                sent = 0
                if type(data) is bytes and data:
                    sent = await socket.send(data)
                    if sent == len(data):
                        return
                # Every view is released on the way out (the with blocks), even on an
                # error: a live view would stop the caller from resizing a bytearray.
                with memoryview(data) as original:
                    if original.ndim != 1 or original.itemsize != 1:
                        byte_view = original.cast("B")  # count bytes, not items
                    else:
                        byte_view = original[:]
                    with byte_view as view:
                        total = view.nbytes
                        if not total:
                            if socket.fileno() == -1:
                                raise ClosedResourceError("this socket was already closed")
                            await CHECKPOINT_TRAP
                            return
                        while sent < total:
                            with view[sent:] as rest:
                                sent += await socket.send(rest)
            except OSError as exc:
                error = _translated(exc)
                raise error from error.__cause__

    async def wait_send_all_might_not_block(self) -> None:
        with self._send_conflict:
            if self.socket.fileno() == -1:
                raise ClosedResourceError("this socket was already closed")
            try:
                await self.socket.wait_writable()
            except OSError as exc:
                error = _translated(exc)
                raise error from error.__cause__

    async def send_eof(self) -> None:
        with self._send_conflict:
            await CHECKPOINT_TRAP
            # Idempotent: a second shutdown() fails on some systems.
            if self.socket.did_shutdown_SHUT_WR:
                return
            try:
                self.socket.shutdown(nsocket.SHUT_WR)
            except OSError as exc:
                error = _translated(exc)
                raise error from error.__cause__

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if max_bytes is None:
            max_bytes = DEFAULT_RECEIVE_SIZE
        elif max_bytes < 1:
            raise ValueError(f"receive_some(max_bytes=...) must be >= 1, got {max_bytes!r}")
        with self._receive_conflict:
            try:
                return await self.socket.recv(max_bytes)
            except OSError as exc:
                error = _translated(exc)
                raise error from error.__cause__

    async def aclose(self) -> None:
        self.socket.close()
        await CHECKPOINT_TRAP

    @overload
    def setsockopt(self, level: int, option: int, value: int | Buffer) -> None: ...

    @overload
    def setsockopt(self, level: int, option: int, value: None, length: int) -> None: ...

    def setsockopt(
        self, level: int, option: int, value: int | Buffer | None, length: int | None = None
    ) -> None:
        """Set an option on the underlying socket (see ``socket.socket.setsockopt``)."""
        if length is None:
            if value is None:
                raise TypeError(
                    "invalid value for argument 'value': None is only allowed together with length"
                )
            self.socket.setsockopt(level, option, value)
        else:
            if value is not None:
                raise TypeError(
                    f"invalid value for argument 'value': {value!r}; with length it must be None"
                )
            self.socket.setsockopt(level, option, None, length)

    @overload
    def getsockopt(self, level: int, option: int) -> int: ...

    @overload
    def getsockopt(self, level: int, option: int, buffersize: int) -> bytes: ...

    def getsockopt(self, level: int, option: int, buffersize: int = 0) -> int | bytes:
        """Read an option of the underlying socket (see ``socket.socket.getsockopt``)."""
        if buffersize == 0:
            return self.socket.getsockopt(level, option)
        return self.socket.getsockopt(level, option, buffersize)


class SocketListener(Listener[SocketStream]):
    """A ``Listener`` over a listening ``SOCK_STREAM`` socket: each ``accept()`` returns
    the next connection as a ``SocketStream``. The listener owns the socket."""

    def __init__(self, socket: nsocket.SocketType) -> None:
        socket = _check_stream_socket(socket, "SocketListener")
        try:
            listening = socket.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_ACCEPTCONN)
        except OSError:
            pass  # a socket type that cannot tell: trust the caller
        else:
            if not listening:
                raise ValueError("SocketListener requires a listening socket (call listen())")
        self.socket = socket
        self._accept_conflict = ConflictDetector(
            "another task is already accepting on this SocketListener"
        )

    async def accept(self) -> SocketStream:
        """Wait for the next connection and return it as a ``SocketStream``.

        Failures of a single pending connection are skipped; others, such as running
        out of file descriptors (``EMFILE``), are raised as ``OSError``: the listener is
        still usable, and a server usually logs them, waits a little, and goes on.
        """
        with self._accept_conflict:
            while True:
                try:
                    sock, _ = await self.socket.accept()
                except OSError as exc:
                    if exc.errno in _CLOSED_ERRNOS:
                        raise ClosedResourceError("this listener was already closed") from None
                    if exc.errno not in _TRANSIENT_ACCEPT_ERRNOS:
                        raise
                else:
                    return SocketStream(sock)

    async def aclose(self) -> None:
        self.socket.close()
        await CHECKPOINT_TRAP
