"""Abstract base classes: clocks, instruments, resources, channels, byte streams,
and listeners."""

import socket as _stdlib_socket
from abc import ABC as _ABC
from abc import abstractmethod as _abstractmethod
from types import TracebackType as _TracebackType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any
from typing import Generic as _Generic
from typing import Self as _Self
from typing import TypeVar as _TypeVar

from ._core._abc import Clock as Clock
from ._core._abc import Instrument as Instrument
from ._core._exceptions import EndOfChannel as _EndOfChannel

if _TYPE_CHECKING:
    from .socket import SocketType as _SocketType

# -- resources and channels ------------------------------------------------------------
# Defined here rather than re-exported from the kernel: they are pure interfaces that the
# kernel never calls, and their home module is the one users subclass from.

_T = _TypeVar("_T")
# A channel that accepts objects of type T may be used where one accepting a subtype is
# wanted, and one producing T where a supertype is wanted: hence the variances.
_SendType = _TypeVar("_SendType", contravariant=True)
_ReceiveType = _TypeVar("_ReceiveType", covariant=True)


class AsyncResource(_ABC):
    """Something that must be closed, where closing may have to wait (say, to say
    goodbye to a peer).

    ``aclose()`` always closes the resource, even when it fails or is cancelled: an
    error from it means the close was not graceful, not that the resource is still
    open. Closing an already closed resource does nothing. Afterwards, other operations
    on it raise ``ClosedResourceError``.

    ``async with resource:`` closes it at the end of the block (entering does nothing
    and is not a checkpoint).
    """

    __slots__ = ()

    @_abstractmethod
    async def aclose(self) -> None:
        """Close the resource; see the class documentation for the contract."""

    async def __aenter__(self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: _TracebackType | None,
    ) -> None:
        await self.aclose()


class SendChannel(AsyncResource, _Generic[_SendType]):
    """The sending end of a channel of Python objects."""

    __slots__ = ()

    @_abstractmethod
    async def send(self, value: _SendType) -> None:
        """Send ``value``, waiting for room if necessary.

        Raises ``BrokenResourceError`` when nobody can receive any more (every
        receiving end is closed), ``ClosedResourceError`` when this end was closed
        (before or during the call), and possibly ``BusyResourceError`` for channel
        types that allow only one sender at a time.
        """


class ReceiveChannel(AsyncResource, _Generic[_ReceiveType]):
    """The receiving end of a channel of Python objects.

    ``async for value in channel:`` receives until the channel reports
    ``EndOfChannel``, which ends the loop quietly.
    """

    __slots__ = ()

    @_abstractmethod
    async def receive(self) -> _ReceiveType:
        """Wait for the next object and return it.

        Raises ``EndOfChannel`` once every sender has closed and nothing is left (a
        normal end, not an error), ``ClosedResourceError`` when this end was closed,
        ``BrokenResourceError`` when the channel failed, and possibly
        ``BusyResourceError`` for channel types that allow only one receiver at a time.
        """

    def __aiter__(self) -> _Self:
        return self

    async def __anext__(self) -> _ReceiveType:
        try:
            return await self.receive()
        except _EndOfChannel:
            raise StopAsyncIteration from None


class Channel(SendChannel[_T], ReceiveChannel[_T]):
    """Both ends in one object: a two-way channel of Python objects."""

    __slots__ = ()


# -- byte streams and listeners -----------------------------------------------------------
# The stream interfaces are about bytes: a channel carries objects, a stream carries an
# ordered sequence of bytes whose chunking means nothing.

_ResourceType = _TypeVar("_ResourceType", bound=AsyncResource, covariant=True)


class SendStream(AsyncResource):
    """The sending half of a byte stream."""

    __slots__ = ()

    @_abstractmethod
    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of ``data``, returning once the transport has taken it.

        This is flow control: the call blocks while the peer is not reading. If it is
        cancelled, some unknown prefix of ``data`` may have been sent, and the stream
        is then in an unknown state (usually: close it).

        Raises ``BusyResourceError`` when another task is already inside ``send_all``
        or ``wait_send_all_might_not_block`` on this stream, ``BrokenResourceError``
        when the transport failed, and ``ClosedResourceError`` when this stream was
        closed (before or during the call).
        """

    @_abstractmethod
    async def wait_send_all_might_not_block(self) -> None:
        """Wait until a ``send_all`` call would probably not block.

        A hint for protocols that want to build the next message at the last moment;
        it may return early. Raises as ``send_all`` does.
        """


class ReceiveStream(AsyncResource):
    """The receiving half of a byte stream.

    ``async for chunk in stream:`` receives chunks until the end of the stream.
    """

    __slots__ = ()

    @_abstractmethod
    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Wait for some data and return it: at least one byte and at most
        ``max_bytes`` (a positive int; ``None`` lets the stream choose).

        Returns an empty bytes object at the end of the stream, and again on every
        later call. Raises ``BusyResourceError`` when another task is already
        receiving on this stream, ``BrokenResourceError`` when the transport failed,
        and ``ClosedResourceError`` when this stream was closed.
        """

    def __aiter__(self) -> _Self:
        return self

    async def __anext__(self) -> bytes | bytearray:
        data = await self.receive_some()
        if not data:
            raise StopAsyncIteration
        return data


class Stream(SendStream, ReceiveStream):
    """A two-way byte stream."""

    __slots__ = ()


class HalfCloseableStream(Stream):
    """A two-way byte stream whose sending half can be closed on its own."""

    __slots__ = ()

    @_abstractmethod
    async def send_eof(self) -> None:
        """Tell the peer that nothing more will be sent, while still receiving.

        Afterwards ``send_all`` raises ``ClosedResourceError``; calling ``send_eof``
        again does nothing. Raises ``BusyResourceError`` when a ``send_all`` is in
        progress.
        """


class Listener(AsyncResource, _Generic[_ResourceType]):
    """Something that accepts incoming connections, each as a resource (usually a
    ``Stream``)."""

    __slots__ = ()

    @_abstractmethod
    async def accept(self) -> _ResourceType:
        """Wait for the next incoming connection and return it.

        Raises ``BusyResourceError`` when another task is already accepting,
        ``ClosedResourceError`` when the listener was closed, and ``OSError`` for
        errors the operating system reports (a server usually logs those and goes on).
        """


# -- socket hooks ---------------------------------------------------------------------------
# Interfaces for nursery.socket.set_custom_hostname_resolver / set_custom_socket_factory.


class HostnameResolver(_ABC):
    """Replaces the system's name resolution for one run (see
    ``nursery.socket.set_custom_hostname_resolver``)."""

    __slots__ = ()

    @_abstractmethod
    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[_Any, ...]]:
        """Answer as ``socket.getaddrinfo`` would. ``host`` arrives already encoded
        (IDNA 2008 for non-ASCII names) and is never a numeric address: nursery answers
        those itself."""

    @_abstractmethod
    async def getnameinfo(self, sockaddr: tuple[_Any, ...], flags: int) -> tuple[str, str]:
        """Answer as ``socket.getnameinfo`` would."""


class SocketFactory(_ABC):
    """Makes the sockets that ``nursery.socket.socket()`` returns in one run (see
    ``nursery.socket.set_custom_socket_factory``)."""

    __slots__ = ()

    @_abstractmethod
    def socket(
        self,
        family: int = _stdlib_socket.AF_INET,
        type: int = _stdlib_socket.SOCK_STREAM,
        proto: int = 0,
    ) -> "_SocketType":
        """Return a new ``nursery.socket.SocketType`` (or a subclass: a fake for
        tests)."""
