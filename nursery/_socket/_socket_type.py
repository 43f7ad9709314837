"""``SocketType``: a standard library socket in non-blocking mode, with async methods.

Every I/O method follows one pattern. First a cancel point that costs almost nothing
when there is nothing to deliver (read the task's cancel status; only a pending
cancellation yields). Then the system call itself: most calls on a busy connection
succeed at once, and waiting on epoll first would cost a poll and a task switch for
nothing. If the call succeeded, one shielded schedule point, so that a task streaming
data still lets the others run (the result is already in hand, so a cancellation there
would lose it: hence shielded). If the call would block, wait for readiness and try
again; that wait is the schedule point and the cancel point, and a cancellation there
loses nothing because no data has moved yet.

The hot methods (``recv``, ``recv_into``, ``send``) are written out by hand: a generic
helper taking ``*args`` would build a tuple and a bound method on every call.

One refinement, for ``recv`` on stream sockets: when the previous ``recv`` returned less
than it asked for, it emptied the kernel's buffer, and the next call would most likely
fail with ``EAGAIN``; so that call waits for readiness first. Nothing changes for the
caller (the wait is still the checkpoint, and a cancelled wait has taken nothing); a
request/response connection just stops paying for a failing system call and a Python
exception on every read.
"""

from __future__ import annotations

import os
import select
import socket as _stdlib
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar, overload

from .._core._context import current_task, in_run
from .._core._exceptions import Cancelled
from .._core._runner import notify_closing, wait_readable, wait_writable
from .._core._traps import (
    CHECKPOINT_TRAP,
    SHIELDED_CHECKPOINT_TRAP,
)
from .._threads._bridge import to_thread_run_sync
from ._resolve import resolve_address

if TYPE_CHECKING:
    from typing_extensions import Buffer

T = TypeVar("T")

_LISTEN_BACKLOG = min(_stdlib.SOMAXCONN, 128)


def _cancel_pending() -> bool:
    """Count a cancel point on the running task, and say whether a cancellation (or a
    KeyboardInterrupt) is waiting to be delivered, in which case the caller must pass a
    real checkpoint before doing anything. (``checkpoint_if_cancelled`` without the
    coroutine: this is on every socket operation.)"""
    task = current_task()  # RuntimeError outside a run
    task._cancel_mark = True
    return task._cancel_status.effectively_cancelled or (
        task._runner.ki_pending and task is task._runner.main_task
    )


class SocketType:
    """The type of nursery's sockets: ``isinstance(x, nursery.socket.SocketType)``.

    Create sockets with ``nursery.socket.socket()`` (or ``socketpair``, ``fromfd``,
    ``from_stdlib_socket``), not with this class. Subclass it only to write a fake socket
    for tests (a custom socket factory may return one); every method here raises
    ``NotImplementedError`` until the subclass provides it.
    """

    __slots__ = ("__weakref__",)

    def __init__(self) -> None:
        if type(self) is SocketType:
            raise TypeError(
                "SocketType is an abstract class; create a socket with "
                "nursery.socket.socket() (or socketpair(), fromfd(), from_stdlib_socket())"
            )

    def _unimplemented(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__qualname__} does not implement this")

    # -- synchronous passthroughs ------------------------------------------------------

    def detach(self) -> int:
        self._unimplemented()

    def fileno(self) -> int:
        self._unimplemented()

    def getpeername(self) -> Any:
        self._unimplemented()

    def getsockname(self) -> Any:
        self._unimplemented()

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...

    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        self._unimplemented()

    @overload
    def setsockopt(self, level: int, optname: int, value: int | Buffer) -> None: ...

    @overload
    def setsockopt(self, level: int, optname: int, value: None, optlen: int) -> None: ...

    def setsockopt(
        self, level: int, optname: int, value: int | Buffer | None, optlen: int | None = None
    ) -> None:
        self._unimplemented()

    def listen(self, backlog: int = _LISTEN_BACKLOG) -> None:
        self._unimplemented()

    def get_inheritable(self) -> bool:
        self._unimplemented()

    def set_inheritable(self, inheritable: bool) -> None:
        self._unimplemented()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def family(self) -> _stdlib.AddressFamily:
        self._unimplemented()

    @property
    def type(self) -> _stdlib.SocketKind:
        self._unimplemented()

    @property
    def proto(self) -> int:
        self._unimplemented()

    @property
    def did_shutdown_SHUT_WR(self) -> bool:
        """Whether ``shutdown(SHUT_WR)`` (or ``SHUT_RDWR``) was called."""
        self._unimplemented()

    def dup(self) -> SocketType:
        """A new ``SocketType`` on a duplicate of this socket's fd."""
        self._unimplemented()

    def close(self) -> None:
        """Close the socket; tasks waiting on it wake with ``ClosedResourceError``."""
        self._unimplemented()

    def shutdown(self, flag: int) -> None:
        """Shut down one or both directions; ``SHUT_WR`` sets ``did_shutdown_SHUT_WR``."""
        self._unimplemented()

    def is_readable(self) -> bool:
        """Whether a ``recv`` would return at once (data, end of stream, or an error)."""
        self._unimplemented()

    # -- async operations --------------------------------------------------------------

    async def wait_writable(self) -> None:
        """Wait until the socket is writable (a ``send`` would not block)."""
        self._unimplemented()

    async def accept(self) -> tuple[SocketType, Any]:
        """Wait for a connection; return ``(socket, address)``, the socket a new ``SocketType``."""
        self._unimplemented()

    async def connect(self, address: Any) -> None:
        """Connect to ``address`` (resolved first if need be); if cancelled, closes the
        socket."""
        self._unimplemented()

    async def bind(self, address: Any) -> None:
        """Bind to ``address`` (resolved first if need be; a Unix path is bound in a thread)."""
        self._unimplemented()

    async def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Receive up to ``bufsize`` bytes, waiting until some arrive; ``b""`` at the end."""
        self._unimplemented()

    async def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        """Receive into ``buffer`` (up to ``nbytes``, default its size); return the count."""
        self._unimplemented()

    async def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        """Like ``recv``, also returning the sender's address."""
        self._unimplemented()

    async def recvfrom_into(
        self, buffer: Buffer, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        """Like ``recv_into``, also returning the sender's address."""
        self._unimplemented()

    async def recvmsg(
        self, bufsize: int, ancbufsize: int = 0, flags: int = 0
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, Any]:
        """Receive data and ancillary data, as ``socket.socket.recvmsg``."""
        self._unimplemented()

    async def recvmsg_into(
        self, buffers: Iterable[Buffer], ancbufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[tuple[int, int, bytes]], int, Any]:
        """Receive into ``buffers``, and ancillary data, as ``socket.socket.recvmsg_into``."""
        self._unimplemented()

    async def send(self, data: Buffer, flags: int = 0) -> int:
        """Send some of ``data``, waiting for room if there is none; return the count sent."""
        self._unimplemented()

    @overload
    async def sendto(self, data: Buffer, address: Any, /) -> int: ...

    @overload
    async def sendto(self, data: Buffer, flags: int, address: Any, /) -> int: ...

    async def sendto(self, *args: Any) -> int:
        """``sendto(data[, flags], address)``: send ``data`` to ``address`` (resolved
        first if need be)."""
        self._unimplemented()

    async def sendmsg(
        self,
        buffers: Iterable[Buffer],
        ancdata: Iterable[tuple[int, int, Buffer]] = (),
        flags: int = 0,
        address: Any = None,
        /,
    ) -> int:
        """Send ``buffers`` and ancillary data, as ``socket.socket.sendmsg``."""
        self._unimplemented()


class _SocketType(SocketType):
    """The real thing: a wrapped ``socket.socket``."""

    # __dict__ too: tests (Trio's among them) patch methods onto a socket instance.
    __slots__ = ("__dict__", "_did_shutdown_SHUT_WR", "_drained", "_sock", "_stream")

    def __init__(self, sock: _stdlib.socket) -> None:
        if type(sock) is not _stdlib.socket:
            # A subclass (an ssl.SSLSocket, say) has blocking semantics of its own.
            raise TypeError(f"expected an object of type socket.socket, got {sock!r}")
        self._sock = sock
        self._sock.setblocking(False)
        self._did_shutdown_SHUT_WR = False
        # See recv(): whether the last recv emptied the socket (stream sockets only: a
        # datagram socket's recv returns one message, which says nothing about the
        # next).
        self._stream = sock.type == _stdlib.SOCK_STREAM
        self._drained = False

    def __repr__(self) -> str:
        return repr(self._sock).replace("socket.socket", "nursery.socket.socket", 1)

    def __getstate__(self) -> NoReturn:
        raise TypeError(f"cannot pickle {type(self).__name__!r} objects")

    # -- synchronous passthroughs ------------------------------------------------------

    def detach(self) -> int:
        return self._sock.detach()

    def fileno(self) -> int:
        return self._sock.fileno()

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...

    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        if buflen is None:
            return self._sock.getsockopt(level, optname)
        return self._sock.getsockopt(level, optname, buflen)

    @overload
    def setsockopt(self, level: int, optname: int, value: int | Buffer) -> None: ...

    @overload
    def setsockopt(self, level: int, optname: int, value: None, optlen: int) -> None: ...

    def setsockopt(
        self, level: int, optname: int, value: int | Buffer | None, optlen: int | None = None
    ) -> None:
        if optlen is None:
            if value is None:
                raise TypeError(
                    "invalid value for argument 'value': None is only allowed together with optlen"
                )
            return self._sock.setsockopt(level, optname, value)
        if value is not None:
            raise TypeError(
                f"invalid value for argument 'value': {value!r}; with optlen it must be None"
            )
        return self._sock.setsockopt(level, optname, value, optlen)

    def listen(self, backlog: int = _LISTEN_BACKLOG) -> None:
        return self._sock.listen(backlog)

    def get_inheritable(self) -> bool:
        return self._sock.get_inheritable()

    def set_inheritable(self, inheritable: bool) -> None:
        return self._sock.set_inheritable(inheritable)

    @property
    def family(self) -> _stdlib.AddressFamily:
        return self._sock.family

    @property
    def type(self) -> _stdlib.SocketKind:
        return self._sock.type

    @property
    def proto(self) -> int:
        return self._sock.proto

    @property
    def did_shutdown_SHUT_WR(self) -> bool:
        return self._did_shutdown_SHUT_WR

    def dup(self) -> SocketType:
        return _SocketType(self._sock.dup())

    def close(self) -> None:
        sock = self._sock
        if sock.fileno() != -1:
            if in_run():
                # Tasks waiting on this fd wake with ClosedResourceError, rather than
                # sleeping on an fd number the system may soon hand out again.
                notify_closing(sock)
            sock.close()

    def shutdown(self, flag: int) -> None:
        self._sock.shutdown(flag)
        if flag in (_stdlib.SHUT_WR, _stdlib.SHUT_RDWR):
            self._did_shutdown_SHUT_WR = True

    def is_readable(self) -> bool:
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        return bool(poller.poll(0))

    # -- address resolution ------------------------------------------------------------

    # Trio's name for it (tests written for Trio replace it on an instance).
    async def _resolve_address_nocp(self, address: Any, *, local: bool) -> Any:
        sock = self._sock
        family = sock.family
        v6only = False
        if family == _stdlib.AF_INET6:
            v6only = bool(sock.getsockopt(_stdlib.IPPROTO_IPV6, _stdlib.IPV6_V6ONLY))
        return await resolve_address(
            address, family, sock.type, sock.proto, ipv6_v6only=v6only, local=local
        )

    # -- async operations: the generic path --------------------------------------------

    async def _io(
        self, wait: Callable[[Any], Awaitable[None]], call: Callable[..., T], *args: Any
    ) -> T:
        if _cancel_pending():
            await CHECKPOINT_TRAP
        sock = self._sock
        try:
            result = call(*args)
        except BlockingIOError:
            pass
        except BaseException:
            await SHIELDED_CHECKPOINT_TRAP
            raise
        else:
            await SHIELDED_CHECKPOINT_TRAP
            return result
        fd = sock.fileno()  # an int: the cheapest form for the kernel to take
        while True:
            await wait(fd)
            try:
                return call(*args)
            except BlockingIOError:
                pass

    async def wait_writable(self) -> None:
        await wait_writable(self._sock)

    async def accept(self) -> tuple[SocketType, Any]:
        sock, address = await self._io(wait_readable, self._sock.accept)
        return _SocketType(sock), address

    async def connect(self, address: Any) -> None:
        # self._sock is read afresh at each step rather than kept in a local: closing
        # on cancellation must close whatever socket this object holds by then.
        try:
            address = await self._resolve_address_nocp(address, local=False)
            if _cancel_pending():
                await CHECKPOINT_TRAP
            try:
                self._sock.connect(address)
            except BlockingIOError:
                pass  # EINPROGRESS: the connection is under way
            except BaseException:
                await SHIELDED_CHECKPOINT_TRAP
                raise
            else:
                await SHIELDED_CHECKPOINT_TRAP
                return
            await wait_writable(self._sock)
        except Cancelled:
            # A connection attempt cannot be taken back: the socket is in an unknown
            # state, so it is closed rather than left half-connected.
            self.close()
            raise
        error = self._sock.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_ERROR)
        if error:
            raise OSError(error, f"error connecting to {address!r}: {os.strerror(error)}")

    async def bind(self, address: Any) -> None:
        address = await self._resolve_address_nocp(address, local=True)
        if self._sock.family == _stdlib.AF_UNIX and address and address[0] not in (0, "\0"):
            # A path in the file system: bind walks directories, which may block.
            await to_thread_run_sync(self._sock.bind, address)
            return
        await CHECKPOINT_TRAP
        self._sock.bind(address)

    # -- async operations: the hot path, written out -----------------------------------

    async def recv(self, bufsize: int, flags: int = 0) -> bytes:
        sock = self._sock
        if self._drained and bufsize:
            # The previous recv emptied the socket: this one will most likely find
            # nothing, so wait for data first rather than pay for a failing call and
            # its exception (in a request/response protocol, a quarter of the CPU time
            # per round trip). The wait is the checkpoint. (Not for recv(0), which
            # returns at once, data or not.)
            fd = sock.fileno()
            if fd != -1:  # closed: the path below reports EBADF
                while True:
                    await wait_readable(fd)
                    try:
                        data = sock.recv(bufsize, flags)
                    except BlockingIOError:
                        continue
                    self._drained = len(data) < bufsize
                    return data
        if _cancel_pending():
            await CHECKPOINT_TRAP
        try:
            data = sock.recv(bufsize, flags)
        except BlockingIOError:
            pass
        except BaseException:
            await SHIELDED_CHECKPOINT_TRAP
            raise
        else:
            self._drained = self._stream and len(data) < bufsize
            await SHIELDED_CHECKPOINT_TRAP
            return data
        fd = sock.fileno()  # an int: the cheapest form for the kernel to take
        while True:
            await wait_readable(fd)
            try:
                data = sock.recv(bufsize, flags)
            except BlockingIOError:
                continue
            self._drained = self._stream and len(data) < bufsize
            return data

    async def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        if _cancel_pending():
            await CHECKPOINT_TRAP
        sock = self._sock
        try:
            count = sock.recv_into(buffer, nbytes, flags)
        except BlockingIOError:
            pass
        except BaseException:
            await SHIELDED_CHECKPOINT_TRAP
            raise
        else:
            await SHIELDED_CHECKPOINT_TRAP
            return count
        fd = sock.fileno()  # an int: the cheapest form for the kernel to take
        while True:
            await wait_readable(fd)
            try:
                return sock.recv_into(buffer, nbytes, flags)
            except BlockingIOError:
                pass

    async def send(self, data: Buffer, flags: int = 0) -> int:
        if _cancel_pending():
            await CHECKPOINT_TRAP
        sock = self._sock
        try:
            sent = sock.send(data, flags)
        except BlockingIOError:
            pass
        except BaseException:
            await SHIELDED_CHECKPOINT_TRAP
            raise
        else:
            await SHIELDED_CHECKPOINT_TRAP
            return sent
        fd = sock.fileno()  # an int: the cheapest form for the kernel to take
        while True:
            await wait_writable(fd)
            try:
                return sock.send(data, flags)
            except BlockingIOError:
                pass

    # -- async operations: the rest ----------------------------------------------------

    async def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        return await self._io(wait_readable, self._sock.recvfrom, bufsize, flags)

    async def recvfrom_into(
        self, buffer: Buffer, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        return await self._io(wait_readable, self._sock.recvfrom_into, buffer, nbytes, flags)

    async def recvmsg(
        self, bufsize: int, ancbufsize: int = 0, flags: int = 0
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, Any]:
        return await self._io(wait_readable, self._sock.recvmsg, bufsize, ancbufsize, flags)

    async def recvmsg_into(
        self, buffers: Iterable[Buffer], ancbufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[tuple[int, int, bytes]], int, Any]:
        # Listed once: the call may be retried, and an iterator would be used up.
        buffers = list(buffers)
        return await self._io(wait_readable, self._sock.recvmsg_into, buffers, ancbufsize, flags)

    async def sendto(self, *args: Any) -> int:
        if len(args) == 2:
            data, address = args
            flags = 0
        elif len(args) == 3:
            data, flags, address = args
        else:
            raise TypeError(
                f"sendto() takes (data, address) or (data, flags, address), got {len(args)} "
                "arguments"
            )
        address = await self._resolve_address_nocp(address, local=False)
        return await self._io(wait_writable, self._sock.sendto, data, flags, address)

    async def sendmsg(
        self,
        buffers: Iterable[Buffer],
        ancdata: Iterable[tuple[int, int, Buffer]] = (),
        flags: int = 0,
        address: Any = None,
        /,
    ) -> int:
        buffers = list(buffers)
        ancdata = list(ancdata)
        if address is None:
            return await self._io(wait_writable, self._sock.sendmsg, buffers, ancdata, flags)
        address = await self._resolve_address_nocp(address, local=False)
        return await self._io(wait_writable, self._sock.sendmsg, buffers, ancdata, flags, address)
