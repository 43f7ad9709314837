"""Name resolution: ``getaddrinfo`` / ``getnameinfo`` off the run's thread, IDNA 2008
for non-ASCII host names, and the address normalisation that ``connect``, ``bind`` and
``sendto`` share.

A lookup that needs no resolver (a numeric host and port) is answered at once, in the
run's thread: asking getaddrinfo with ``AI_NUMERICHOST | AI_NUMERICSERV`` either succeeds
without touching the network or fails with ``EAI_NONAME``, which means "a real name,
resolve it properly". Only then does a worker thread (or the custom resolver) get the
query.
"""

from __future__ import annotations

import os
import socket as _stdlib
from typing import Any, Literal

from .._core._traps import (
    SHIELDED_CHECKPOINT_TRAP,
    checkpoint_if_cancelled,
)
from .._threads._bridge import to_thread_run_sync
from ._hooks import HOSTNAME_RESOLVER
from ._idna import encode_hostname

_NUMERIC_ONLY = _stdlib.AI_NUMERICHOST | _stdlib.AI_NUMERICSERV

# As typeshed spells what socket.getaddrinfo returns.
AddrInfo = (
    tuple[Literal[_stdlib.AddressFamily.AF_INET], _stdlib.SocketKind, int, str, tuple[str, int]]
    | tuple[
        Literal[_stdlib.AddressFamily.AF_INET6],
        _stdlib.SocketKind,
        int,
        str,
        tuple[str, int, int, int] | tuple[int, bytes],
    ]
)


async def getaddrinfo(
    host: bytes | str | None,
    port: bytes | str | int | None,
    family: int = 0,
    type: int = 0,
    proto: int = 0,
    flags: int = 0,
) -> list[AddrInfo]:
    """Like ``socket.getaddrinfo``, but async: a real lookup runs in a worker thread
    (or in the custom resolver, see ``set_custom_hostname_resolver``) and can be
    cancelled; numeric hosts are answered without a thread. Non-ASCII names are
    encoded with IDNA 2008 (pass bytes to choose the encoding yourself)."""
    await checkpoint_if_cancelled()
    if isinstance(host, str):
        # Before the numeric attempt too: given a str, the standard library would
        # apply its own (IDNA 2003) codec, and fail on names that IDNA 2008 allows.
        # Numeric addresses are ASCII, which encoding leaves as it is.
        host = encode_hostname(host)
    try:
        numeric = _stdlib.getaddrinfo(host, port, family, type, proto, flags | _NUMERIC_ONLY)
    except _stdlib.gaierror as exc:
        if exc.errno != _stdlib.EAI_NONAME:
            await SHIELDED_CHECKPOINT_TRAP
            raise
    except BaseException:
        await SHIELDED_CHECKPOINT_TRAP
        raise
    else:
        await SHIELDED_CHECKPOINT_TRAP
        return numeric
    resolver = HOSTNAME_RESOLVER.get()
    if resolver is not None:
        return await resolver.getaddrinfo(host, port, family, type, proto, flags)
    return await to_thread_run_sync(
        _stdlib.getaddrinfo, host, port, family, type, proto, flags, abandon_on_cancel=True
    )


async def getnameinfo(sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
    """Like ``socket.getnameinfo``, but async: it runs in a worker thread (or in the
    custom resolver) and can be cancelled."""
    resolver = HOSTNAME_RESOLVER.get()
    if resolver is not None:
        return await resolver.getnameinfo(sockaddr, flags)
    return await to_thread_run_sync(_stdlib.getnameinfo, sockaddr, flags, abandon_on_cancel=True)


async def getprotobyname(name: str) -> int:
    """Like ``socket.getprotobyname``, but async (it may read ``/etc/protocols``, or ask
    NSS): it runs in a worker thread and can be cancelled."""
    return await to_thread_run_sync(_stdlib.getprotobyname, name, abandon_on_cancel=True)


async def resolve_address(
    address: Any,
    family: int,
    type: int,
    proto: int,
    *,
    ipv6_v6only: bool,
    local: bool,
) -> Any:
    """Turn the address a user passed to ``connect`` / ``bind`` / ``sendto`` into one
    the system call takes: IP hosts resolved (``""`` is "any", ``"<broadcast>"`` the
    broadcast address, as in the standard library), paths unwrapped; other families'
    addresses pass through. Not a checkpoint by itself unless a lookup is needed."""
    if family == _stdlib.AF_INET:
        if not isinstance(address, tuple) or len(address) != 2:
            raise ValueError(f"an AF_INET address must be a (host, port) tuple, got {address!r}")
    elif family == _stdlib.AF_INET6:
        if not isinstance(address, tuple) or not 2 <= len(address) <= 4:
            raise ValueError(
                "an AF_INET6 address must be a (host, port[, flowinfo[, scope_id]]) tuple, "
                f"got {address!r}"
            )
    elif family == _stdlib.AF_UNIX:
        if not isinstance(address, (str, bytes, os.PathLike)):
            raise TypeError(f"an AF_UNIX address must be a path (str, bytes), got {address!r}")
        return os.fspath(address)
    else:
        return address

    host, port = address[0], address[1]
    # Already numeric (the usual case for sendto in a UDP loop): nothing to do.
    if isinstance(port, int) and isinstance(host, str):
        try:
            _stdlib.inet_pton(family, host)
        except OSError:
            pass
        else:
            return address
    if host == "":
        host = None
    elif host == "<broadcast>":
        host = "255.255.255.255"
    flags = _stdlib.AI_PASSIVE if local else 0
    # No AI_ADDRCONFIG: the family is explicit, and the flag would hide ::1 on hosts
    # without a global IPv6 address, which breaks IPv6 loopback.
    if family == _stdlib.AF_INET6 and not ipv6_v6only:
        flags |= _stdlib.AI_V4MAPPED
    results = await getaddrinfo(host, port, family, type, proto, flags)
    resolved = results[0][4]
    if family == _stdlib.AF_INET6 and len(address) > 2:
        # getaddrinfo does not know the caller's flowinfo / scope_id: keep them.
        resolved = (*resolved[:2], *address[2:], *resolved[len(address) :])
    return resolved
