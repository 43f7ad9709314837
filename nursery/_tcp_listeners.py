"""``open_tcp_listeners``: listening TCP sockets on every local address that a host
name (or the wildcard) resolves to, one ``SocketListener`` per address."""

from __future__ import annotations

import errno

from . import socket as _socket
from ._open_tcp_stream import check_port_range
from ._socket_stream import SocketListener

# Linux stores the backlog in 16 bits and silently wraps larger values (a backlog of
# 65536 would become 0), so cap it; the kernel caps it again at net.core.somaxconn.
MAX_BACKLOG = 0xFFFF


def compute_backlog(backlog: object) -> int:
    """The ``listen()`` backlog for ``backlog`` (``None`` meaning the largest one)."""
    if backlog is None:
        return MAX_BACKLOG
    if isinstance(backlog, bool) or not isinstance(backlog, int):
        raise TypeError(f"backlog must be an int or None, not {backlog!r}")
    return min(backlog, MAX_BACKLOG)


async def open_tcp_listeners(
    port: int, *, host: str | bytes | None = None, backlog: int | None = None
) -> list[SocketListener]:
    """Listen for TCP connections on ``port`` and return one ``SocketListener`` per
    local address.

    ``host`` is resolved with ``getaddrinfo`` (``AI_PASSIVE``); the default ``None``
    means every local address, which usually gives two listeners: one on ``0.0.0.0``
    (IPv4) and one on ``::`` (IPv6, with ``IPV6_V6ONLY`` set so the two do not collide).
    Every socket has ``SO_REUSEADDR``, so a restarted server can bind again at once.

    ``port=0`` lets the kernel pick a free port; each address then gets its own,
    so read them from ``listener.socket.getsockname()``. ``backlog`` is the length of
    the queue of connections not yet accepted; ``None`` (the default) asks for the
    largest the system allows.

    An address family that the system does not support is skipped, unless it leaves
    no listener at all (then ``OSError`` with ``EAFNOSUPPORT``). Any other failure
    closes the listeners already made and propagates.
    """
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {port!r}")
    check_port_range(port)
    if host is not None and not isinstance(host, str | bytes):
        raise TypeError(f"host must be str, bytes or None, not {host!r}")
    computed_backlog = compute_backlog(backlog)

    addresses = await _socket.getaddrinfo(
        host, port, type=_socket.SOCK_STREAM, flags=_socket.AI_PASSIVE
    )
    listeners: list[SocketListener] = []
    unsupported: list[OSError] = []
    try:
        for family, type_, proto, _, sockaddr in addresses:
            try:
                sock = _socket.socket(family, type_, proto)
            except OSError as exc:
                if exc.errno != errno.EAFNOSUPPORT:
                    raise
                # getaddrinfo offers IPv6 even where IPv6 is disabled (and the reverse):
                # a missing family is fine as long as another one works.
                unsupported.append(exc)
                continue
            try:
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
                if family == _socket.AF_INET6:
                    sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
                await sock.bind(sockaddr)
                sock.listen(computed_backlog)
                listeners.append(SocketListener(sock))
            except BaseException:
                sock.close()
                raise
    except BaseException:
        for listener in listeners:
            listener.socket.close()
        raise
    if unsupported and not listeners:
        where = "the wildcard address" if host is None else repr(host)
        message = f"This system doesn't support any of the address families of {where}"
        raise OSError(errno.EAFNOSUPPORT, message) from ExceptionGroup(message, unsupported)
    return listeners
