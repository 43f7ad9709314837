"""Per-run hooks that replace name resolution and socket creation (for tests, proxies,
virtual networks). Kept in ``RunVar``s: each run starts with the system's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._run_var import RunVar

if TYPE_CHECKING:
    from ..abc import HostnameResolver, SocketFactory

HOSTNAME_RESOLVER: RunVar[HostnameResolver | None] = RunVar(
    "nursery.socket hostname resolver", None
)
SOCKET_FACTORY: RunVar[SocketFactory | None] = RunVar("nursery.socket socket factory", None)


# Like Trio, neither setter insists on a subclass of the ABC: any object with the
# right methods works (duck typing keeps simple test doubles simple).
def set_custom_hostname_resolver(
    hostname_resolver: HostnameResolver | None,
) -> HostnameResolver | None:
    """Make ``getaddrinfo`` and ``getnameinfo`` (and so every address resolution of this
    run) call ``hostname_resolver`` instead of the system's resolver; ``None`` restores
    the system's. Numeric addresses never reach the resolver. Returns the previous one.
    """
    old = HOSTNAME_RESOLVER.get()
    HOSTNAME_RESOLVER.set(hostname_resolver)
    return old


def set_custom_socket_factory(socket_factory: SocketFactory | None) -> SocketFactory | None:
    """Make ``nursery.socket.socket()`` (without ``fileno``) call
    ``socket_factory.socket(family, type, proto)`` for the rest of this run; ``None``
    restores the default. Returns the previous factory."""
    old = SOCKET_FACTORY.get()
    SOCKET_FACTORY.set(socket_factory)
    return old
