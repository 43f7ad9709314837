"""``open_tcp_stream``: connect to a host and port, trying its addresses with Happy
Eyeballs (RFC 8305) so that one unreachable address family costs a quarter second,
not a connect timeout."""

from __future__ import annotations

import functools
from contextlib import suppress
from typing import Any

from . import socket as _socket
from ._happy_eyeballs import check_delay, interleave_families, staggered_race
from ._socket_stream import SocketStream

DEFAULT_HAPPY_EYEBALLS_DELAY = 0.250  # RFC 8305's recommended "Connection Attempt Delay"


class _HostTypeError(TypeError, ValueError):
    """A ``host`` of the wrong type. A ``TypeError``, as for every other bad argument
    type; also a ``ValueError``, which is what Trio raises here, so that code written
    against either keeps catching it."""


def format_host_port(host: str | bytes, port: int) -> str:
    """``host:port`` as a person writes it (IPv6 literals in brackets)."""
    text = host.decode("ascii", "backslashreplace") if isinstance(host, bytes) else host
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def _check_host_port(host: object, port: object) -> None:
    # Rule out what getaddrinfo would accept but treat oddly (None meaning "any address"
    # or a service name as the port): a client connects to one named place.
    if not isinstance(host, str | bytes):
        raise _HostTypeError(f"host must be str or bytes, not {host!r}")
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be int, not {port!r}")
    check_port_range(port)


def check_port_range(port: int) -> None:
    # getaddrinfo would take 70000 and the kernel would quietly use 70000 % 65536.
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port must be in range 0-65535, not {port!r}")


async def _connect_one(
    family: int, type: int, proto: int, sockaddr: Any, local_address: str | None
) -> _socket.SocketType:
    """One attempt: a socket connected to ``sockaddr``, or ``OSError``. The socket is
    closed again if the attempt fails or is cancelled."""
    sock = _socket.socket(family, type, proto)
    try:
        if local_address is not None:
            # Binding to an address normally reserves a local port on the spot, for
            # every possible peer. This option (Linux) lets connect() pick the port
            # later, knowing the peer, so that many connections can share ports.
            with suppress(OSError, AttributeError):
                sock.setsockopt(_socket.IPPROTO_IP, _socket.IP_BIND_ADDRESS_NO_PORT, 1)
            try:
                await sock.bind((local_address, 0))
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"local_address={local_address!r} is incompatible with remote "
                    f"address {sockaddr!r}: {exc.strerror or exc}",
                ) from exc
        await sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def _close(sock: _socket.SocketType) -> None:
    sock.close()  # through the instance: a custom socket factory's class may override it


async def open_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    happy_eyeballs_delay: float | None = DEFAULT_HAPPY_EYEBALLS_DELAY,
    local_address: str | None = None,
) -> SocketStream:
    """Connect to ``host`` on TCP port ``port`` and return a ``SocketStream``.

    ``host`` (str or bytes) is a host name or an IPv4/IPv6 address, resolved with
    ``nursery.socket.getaddrinfo``. When it has several addresses they are tried with
    Happy Eyeballs: the first right away, each next one as soon as the previous attempt
    fails or ``happy_eyeballs_delay`` seconds (default 0.25) after it started, with the
    address families interleaved (RFC 8305). The first attempt to connect wins; the
    others are cancelled and their sockets closed before this returns. With
    ``happy_eyeballs_delay=None`` only one attempt runs at a time.

    ``local_address``, if given, is the local IP address (or host name) to connect from;
    an IPv4 one cannot reach IPv6 addresses, nor the reverse.

    Raises ``OSError`` if the name resolves to nothing, or if every attempt fails
    ("all attempts to connect to HOST:PORT failed"): then its ``__cause__`` is an
    ``ExceptionGroup`` of the individual ``OSError``s, one per address tried, in the
    order they failed (a traceback shows them all). Bad argument types raise ``TypeError``.
    """
    _check_host_port(host, port)
    delay = check_delay(happy_eyeballs_delay)
    if local_address is not None and not isinstance(local_address, str | bytes):
        raise TypeError(f"local_address must be str or None, not {local_address!r}")

    targets = await _socket.getaddrinfo(host, port, type=_socket.SOCK_STREAM)
    if not targets:
        raise OSError(f"no results found for hostname lookup: {format_host_port(host, port)}")
    targets = interleave_families(targets, lambda target: target[0])

    attempts = [
        functools.partial(_connect_one, family, type_, proto, sockaddr, local_address)
        for family, type_, proto, _, sockaddr in targets
    ]
    result = await staggered_race(attempts, delay, _close)

    if result.winner is None:
        # Worded as Trio words it, with nothing added (not even notes, which pytest's
        # match= reads too): programs and tests match on it. What went wrong with each
        # address is in __cause__, which a traceback shows in full (nursery's own
        # sockets name the address in their connect errors).
        message = f"all attempts to connect to {format_host_port(host, port)} failed"
        raise OSError(message) from ExceptionGroup(message, [exc for _, exc in result.failures])
    try:
        return SocketStream(result.winner)
    except BaseException:
        result.winner.close()
        raise
