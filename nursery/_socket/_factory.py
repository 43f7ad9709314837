"""The functions that make nursery sockets: each wraps a standard library socket."""

from __future__ import annotations

import socket as _stdlib
from typing import SupportsIndex

from .._core._context import in_run
from ._hooks import SOCKET_FACTORY
from ._socket_type import SocketType, _SocketType


def from_stdlib_socket(sock: _stdlib.socket) -> SocketType:
    """Wrap a ``socket.socket`` (it is switched to non-blocking mode). From then on use
    only the wrapper."""
    return _SocketType(sock)


def _sniff(family: int, type: int, proto: int, fileno: int) -> tuple[int, int, int]:
    """The real family, type and protocol of an existing socket fd (Linux can tell),
    so that a wrapper made from an fd never lies about them."""
    probe = _stdlib.socket(family, type, proto, fileno)
    try:
        return (
            probe.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_DOMAIN),
            probe.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_TYPE),
            probe.getsockopt(_stdlib.SOL_SOCKET, _stdlib.SO_PROTOCOL),
        )
    finally:
        probe.detach()  # the fd belongs to the caller


def socket(
    family: int = _stdlib.AF_INET,
    type: int = _stdlib.SOCK_STREAM,
    proto: int = 0,
    fileno: int | None = None,
) -> SocketType:
    """Create a socket, like ``socket.socket``. Without ``fileno``, a custom socket
    factory (``set_custom_socket_factory``) makes it if one is set. With ``fileno``, the
    socket wraps that fd, and its family, type and protocol are read from the fd."""
    if fileno is None:
        # Outside a run there are no hooks (they live in the run), but a socket may
        # still be made, to be used in a run later.
        factory = SOCKET_FACTORY.get() if in_run() else None
        if factory is not None:
            return factory.socket(family, type, proto)
    else:
        family, type, proto = _sniff(family, type, proto, fileno)
    return _SocketType(_stdlib.socket(family, type, proto, fileno))


def socketpair(
    family: int | None = None,
    type: int = _stdlib.SOCK_STREAM,
    proto: int = 0,
) -> tuple[SocketType, SocketType]:
    """A pair of connected sockets, like ``socket.socketpair`` (``AF_UNIX`` by
    default)."""
    left, right = _stdlib.socketpair(family, type, proto)
    return _SocketType(left), _SocketType(right)


def fromfd(
    fd: SupportsIndex,
    family: int = _stdlib.AF_INET,
    type: int = _stdlib.SOCK_STREAM,
    proto: int = 0,
) -> SocketType:
    """Like ``socket.fromfd``: a new socket on a duplicate of ``fd``."""
    family, type, proto = _sniff(family, type, proto, fd.__index__())
    return _SocketType(_stdlib.fromfd(fd, family, type, proto))
