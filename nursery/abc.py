"""Abstract base classes: what a clock and an instrument must provide."""

from abc import ABC as _ABC
from abc import abstractmethod as _abstractmethod
from types import TracebackType as _TracebackType
from typing import Generic as _Generic
from typing import Self as _Self
from typing import TypeVar as _TypeVar

from ._core._abc import Clock as Clock
from ._core._abc import Instrument as Instrument
from ._core._exceptions import EndOfChannel as _EndOfChannel

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
