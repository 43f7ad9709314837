"""Connecting a test client to a ``SocketListener`` whose address the test did not
choose (port 0: the system picked one)."""

from __future__ import annotations

from typing import Any

from .. import socket as nsocket
from .._socket_stream import SocketListener, SocketStream

# A listener bound to every address is reached, from the same machine, through the
# loopback address of its family.
_WILDCARD_TO_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}


async def open_stream_to_socket_listener(socket_listener: SocketListener) -> SocketStream:
    """Connect a new socket to the address ``socket_listener`` listens on, and return
    it as a ``SocketStream``.

    Useful when a server listens on port 0 and the test must find where::

        listeners = await nursery.open_tcp_listeners(0)
        client = await nursery.testing.open_stream_to_socket_listener(listeners[0])

    A listener bound to a wildcard address (``0.0.0.0``, ``::``) is reached over
    loopback. Works for TCP and Unix stream sockets.
    """
    if not isinstance(socket_listener, SocketListener):
        raise TypeError(
            "open_stream_to_socket_listener() expected a SocketListener, "
            f"got {type(socket_listener).__name__}"
        )
    listening = socket_listener.socket
    family = listening.family
    address: Any = listening.getsockname()
    if family in (nsocket.AF_INET, nsocket.AF_INET6):
        host, *rest = address
        address = (_WILDCARD_TO_LOOPBACK.get(host, host), *rest)
    sock = nsocket.socket(family, nsocket.SOCK_STREAM)
    try:
        await sock.connect(address)
    except BaseException:
        # Cancelled or refused: the half-made connection is of no use to anyone.
        sock.close()
        raise
    return SocketStream(sock)
