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
"""

from __future__ import annotations

import os
import select
import socket as _stdlib
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar, overload

from .._core._context import GLOBAL_RUN_CONTEXT, NOT_IN_RUN, in_run
from .._core._exceptions import Cancelled
from .._core._runner import notify_closing, wait_readable, wait_writable
from .._core._traps import cancel_shielded_checkpoint, checkpoint
from .._threads._bridge import to_thread_run_sync
from ._resolve import resolve_address

if TYPE_CHECKING:
    from typing_extensions import Buffer

T = TypeVar("T")

_LISTEN_BACKLOG = min(_stdlib.SOMAXCONN, 128)


def _cancel_pending() -> bool:
    """Count a cancel point on the running task, and say whether a cancellation (or a
    KeyboardInterrupt) is waiting to be delivered, in which case the caller must pass a
    real checkpoint before doing anything."""
    try:
        task = GLOBAL_RUN_CONTEXT.task
    except AttributeError:
        raise RuntimeError(NOT_IN_RUN) from None
    task._cancel_points += 1
    return task._cancel_status.effectively_cancelled or task._ki_pending


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
        self._unimplemented()

    def close(self) -> None:
        self._unimplemented()

    def shutdown(self, flag: int) -> None:
        self._unimplemented()

    def is_readable(self) -> bool:
        """Whether a ``recv`` would return at once (data, end of stream, or an error)."""
        self._unimplemented()

    # -- async operations --------------------------------------------------------------

    async def wait_writable(self) -> None:
        self._unimplemented()

    async def accept(self) -> tuple[SocketType, Any]:
        self._unimplemented()

    async def connect(self, address: Any) -> None:
        self._unimplemented()

    async def bind(self, address: Any) -> None:
        self._unimplemented()

    async def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._unimplemented()

    async def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        self._unimplemented()

    async def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        self._unimplemented()

    async def recvfrom_into(
        self, buffer: Buffer, nbytes: int = 0, flags: int = 0
    ) -> tuple[int, Any]:
        self._unimplemented()

    async def recvmsg(
        self, bufsize: int, ancbufsize: int = 0, flags: int = 0
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, Any]:
        self._unimplemented()

    async def recvmsg_into(
        self, buffers: Iterable[Buffer], ancbufsize: int = 0, flags: int = 0
    ) -> tuple[int, list[tuple[int, int, bytes]], int, Any]:
        self._unimplemented()

    async def send(self, data: Buffer, flags: int = 0) -> int:
        self._unimplemented()

    @overload
    async def sendto(self, data: Buffer, address: Any, /) -> int: ...

    @overload
    async def sendto(self, data: Buffer, flags: int, address: Any, /) -> int: ...

    async def sendto(self, *args: Any) -> int:
        self._unimplemented()

    async def sendmsg(
        self,
        buffers: Iterable[Buffer],
        ancdata: Iterable[tuple[int, int, Buffer]] = (),
        flags: int = 0,
        address: Any = None,
        /,
    ) -> int:
        self._unimplemented()


class _SocketType(SocketType):
    """The real thing: a wrapped ``socket.socket``."""

    __slots__ = ("_did_shutdown_SHUT_WR", "_sock")

    def __init__(self, sock: _stdlib.socket) -> None:
        if type(sock) is not _stdlib.socket:
            # A subclass (an ssl.SSLSocket, say) has blocking semantics of its own.
            raise TypeError(f"expected an object of type socket.socket, got {sock!r}")
        self._sock = sock
        self._sock.setblocking(False)
        self._did_shutdown_SHUT_WR = False

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
                    "setsockopt(): value must not be None unless optlen is given "
                    "(then it must be None)"
                )
            return self._sock.setsockopt(level, optname, value)
        if value is not None:
            raise TypeError(f"setsockopt(): value must be None when optlen is given, got {value!r}")
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

    async def _resolve(self, address: Any, *, local: bool) -> Any:
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
            await checkpoint()
        sock = self._sock
        try:
            result = call(*args)
        except BlockingIOError:
            pass
        else:
            await cancel_shielded_checkpoint()
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
        sock = self._sock
        try:
            address = await self._resolve(address, local=False)
            if _cancel_pending():
                await checkpoint()
            try:
                sock.connect(address)
            except BlockingIOError:
                pass  # EINPROGRESS: the connection is under way
            else:
                await cancel_shielded_checkpoint()
                return
            await wait_writable(sock)
        except Cancelled:
            # A connection attempt cannot be taken back: the socket is in an unknown
            # state, so it is closed rather than left half-connected.
            self.close()
            raise
        error = sock.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_ERROR)
        if error:
            raise OSError(error, f"error connecting to {address!r}: {os.strerror(error)}")

    async def bind(self, address: Any) -> None:
        address = await self._resolve(address, local=True)
        if self._sock.family == _stdlib.AF_UNIX and address and address[0] not in (0, "\0"):
            # A path in the file system: bind walks directories, which may block.
            await to_thread_run_sync(self._sock.bind, address)
            return
        await checkpoint()
        self._sock.bind(address)

    # -- async operations: the hot path, written out -----------------------------------

    async def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if _cancel_pending():
            await checkpoint()
        sock = self._sock
        try:
            data = sock.recv(bufsize, flags)
        except BlockingIOError:
            pass
        else:
            await cancel_shielded_checkpoint()
            return data
        fd = sock.fileno()  # an int: the cheapest form for the kernel to take
        while True:
            await wait_readable(fd)
            try:
                return sock.recv(bufsize, flags)
            except BlockingIOError:
                pass

    async def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        if _cancel_pending():
            await checkpoint()
        sock = self._sock
        try:
            count = sock.recv_into(buffer, nbytes, flags)
        except BlockingIOError:
            pass
        else:
            await cancel_shielded_checkpoint()
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
            await checkpoint()
        sock = self._sock
        try:
            sent = sock.send(data, flags)
        except BlockingIOError:
            pass
        else:
            await cancel_shielded_checkpoint()
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
        address = await self._resolve(address, local=False)
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
        address = await self._resolve(address, local=False)
        return await self._io(wait_writable, self._sock.sendmsg, buffers, ancdata, flags, address)
