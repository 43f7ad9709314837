"""``open_unix_socket``: connect to a Unix-domain stream socket by its path."""

from __future__ import annotations

import os

from . import socket as _socket
from ._socket_stream import SocketStream

# Module-level so that a test can pretend to be on a platform without Unix sockets.
has_unix = hasattr(_socket, "AF_UNIX")


async def open_unix_socket(
    filename: str | bytes | os.PathLike[str] | os.PathLike[bytes],
) -> SocketStream:
    """Connect to the Unix-domain socket at ``filename`` (a path: str, bytes or
    path-like) and return a ``SocketStream``.

    Raises ``OSError`` if nothing listens there (``FileNotFoundError``,
    ``ConnectionRefusedError``, ...) and ``RuntimeError`` on a platform without Unix
    sockets.
    """
    if not has_unix:
        raise RuntimeError("Unix sockets are not supported on this platform")
    try:
        path = os.fspath(filename)
    except TypeError:
        raise TypeError(
            f"filename must be a str, bytes or path-like object, not {filename!r}"
        ) from None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        await sock.connect(path)
        return SocketStream(sock)
    except BaseException:
        sock.close()
        raise
