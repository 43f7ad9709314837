"""Generic stream helpers: joining two one-way streams into a two-way one, and closing
a resource without waiting for a graceful goodbye."""

from __future__ import annotations

from typing import Generic, TypeVar

from ._core._cancel_scope import CancelScope
from .abc import AsyncResource, HalfCloseableStream, ReceiveStream, SendStream

SendStreamT = TypeVar("SendStreamT", bound=SendStream)
ReceiveStreamT = TypeVar("ReceiveStreamT", bound=ReceiveStream)


async def aclose_forcefully(resource: AsyncResource) -> None:
    """Close ``resource`` at once, inside an already-cancelled scope.

    A graceful close may wait (a TLS goodbye, say); this one gives up on anything that
    would block, so only the cheap, local part of closing happens. Like every
    ``aclose``, it still checkpoints and leaves the resource closed.
    """
    with CancelScope() as scope:
        scope.cancel()
        await resource.aclose()


class StapledStream(HalfCloseableStream, Generic[SendStreamT, ReceiveStreamT]):
    """A two-way stream made of a ``SendStream`` for sending and a ``ReceiveStream``
    for receiving (two pipes, or the two one-way memory streams of a test).

    ``send_stream`` and ``receive_stream`` are plain attributes: they may be read,
    used directly, or replaced.
    """

    # No __slots__: the attributes are meant to be replaceable, and subclasses may add
    # their own.

    def __init__(self, send_stream: SendStreamT, receive_stream: ReceiveStreamT) -> None:
        self.send_stream = send_stream
        self.receive_stream = receive_stream

    def __repr__(self) -> str:
        return (
            f"StapledStream(send_stream={self.send_stream!r}, "
            f"receive_stream={self.receive_stream!r})"
        )

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send through ``send_stream.send_all``."""
        await self.send_stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Wait through ``send_stream.wait_send_all_might_not_block``."""
        await self.send_stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        """Call ``send_stream.send_eof()`` if the send stream has one, otherwise close
        the send stream (for a one-way stream, closing is how the end is told)."""
        stream = self.send_stream
        if isinstance(stream, HalfCloseableStream):
            await stream.send_eof()
            return
        send_eof = getattr(stream, "send_eof", None)
        if callable(send_eof):
            # A send stream with its own send_eof but not a HalfCloseableStream (it
            # cannot receive): its send_eof still says more than closing would.
            await send_eof()
        else:
            await stream.aclose()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Receive through ``receive_stream.receive_some``."""
        return await self.receive_stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        """Close both streams: the receive stream is closed even if closing the send
        stream fails or is cancelled."""
        try:
            await self.send_stream.aclose()
        finally:
            await self.receive_stream.aclose()
