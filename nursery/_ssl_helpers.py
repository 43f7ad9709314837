"""TLS over TCP in one call: ``open_ssl_over_tcp_stream``, ``open_ssl_over_tcp_listeners``
and ``serve_ssl_over_tcp``, thin layers over the TCP functions and ``SSLStream`` /
``SSLListener``."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from ._core._nursery import TASK_STATUS_IGNORED, Nursery, TaskStatus
from ._open_tcp_stream import DEFAULT_HAPPY_EYEBALLS_DELAY, open_tcp_stream
from ._serve import serve_listeners
from ._socket_stream import SocketListener, SocketStream
from ._ssl import SSLListener, SSLStream
from ._stapled_stream import aclose_forcefully
from ._tcp_listeners import open_tcp_listeners


def _check_context(ssl_context: object, function: str) -> None:
    if not isinstance(ssl_context, ssl.SSLContext):
        raise TypeError(
            f"{function}() expected an ssl.SSLContext for ssl_context, got "
            f"{type(ssl_context).__name__}"
        )


async def open_ssl_over_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    https_compatible: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    happy_eyeballs_delay: float | None = DEFAULT_HAPPY_EYEBALLS_DELAY,
) -> SSLStream[SocketStream]:
    """Connect to ``host`` on TCP ``port`` (``open_tcp_stream``) and return an
    ``SSLStream`` over the connection, whose certificate must be valid for ``host``.

    ``ssl_context`` defaults to ``ssl.create_default_context()`` (certificates checked
    against the system's trusted CAs, host name checked). The handshake is not done
    here: call ``do_handshake()``, or let the first send or receive do it.
    """
    if ssl_context is None:
        ssl_context = ssl.create_default_context()
        # Some builds tell OpenSSL to take a transport that ends without close_notify
        # as a clean end; that is for https_compatible to decide, per stream.
        ssl_context.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    else:
        _check_context(ssl_context, "open_ssl_over_tcp_stream")
    tcp_stream = await open_tcp_stream(host, port, happy_eyeballs_delay=happy_eyeballs_delay)
    try:
        return SSLStream(
            tcp_stream,
            ssl_context,
            server_hostname=host,
            https_compatible=https_compatible,
        )
    except BaseException:
        await aclose_forcefully(tcp_stream)
        raise


async def open_ssl_over_tcp_listeners(
    port: int,
    ssl_context: ssl.SSLContext,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
) -> list[SSLListener[SocketStream]]:
    """Listen on TCP ``port`` (``open_tcp_listeners(port, host=host, backlog=backlog)``)
    and return an ``SSLListener`` over each listener, serving TLS with
    ``ssl_context`` (which holds the server's certificate and key)."""
    _check_context(ssl_context, "open_ssl_over_tcp_listeners")
    tcp_listeners: list[SocketListener] = await open_tcp_listeners(port, host=host, backlog=backlog)
    return [
        SSLListener(listener, ssl_context, https_compatible=https_compatible)
        for listener in tcp_listeners
    ]


async def serve_ssl_over_tcp(
    handler: Callable[[SSLStream[SocketStream]], Awaitable[object]],
    port: int,
    ssl_context: ssl.SSLContext,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[Any] = TASK_STATUS_IGNORED,
) -> NoReturn:
    """Serve TLS over TCP forever: ``open_ssl_over_tcp_listeners`` then
    ``serve_listeners``, calling ``await handler(ssl_stream)`` for each connection in
    a task of its own.

    With ``nursery.start()`` it reports the list of ``SSLListener`` s (for ``port=0``,
    the port is ``listeners[0].transport_listener.socket.getsockname()[1]``). An
    exception from a handler propagates (crashing the server, unless
    ``handler_nursery`` handles it); a failed handshake inside a handler is such an
    exception, so catch ``BrokenResourceError`` in the handler.
    """
    if handler_nursery is not None and not isinstance(handler_nursery, Nursery):
        # Checked before any listener exists, so that nothing is left open.
        raise TypeError(f"handler_nursery must be a Nursery or None, not {handler_nursery!r}")
    listeners = await open_ssl_over_tcp_listeners(
        port, ssl_context, host=host, https_compatible=https_compatible, backlog=backlog
    )
    await serve_listeners(
        handler, listeners, handler_nursery=handler_nursery, task_status=task_status
    )
