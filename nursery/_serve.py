"""Serving: accept connections on listeners forever, each in a handler task of its own
(``serve_listeners``), and the TCP shortcut (``serve_tcp``)."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn, TypeVar

from ._core._nursery import TASK_STATUS_IGNORED, Nursery, TaskStatus, open_nursery
from ._core._sleep import sleep
from ._socket_stream import SocketStream
from ._stapled_stream import aclose_forcefully
from ._tcp_listeners import open_tcp_listeners
from .abc import AsyncResource, Listener

StreamT = TypeVar("StreamT", bound=AsyncResource)

# accept() fails with these when the process or the system is out of a resource that
# comes back by itself as connections close: wait and retry rather than stop serving.
ACCEPT_CAPACITY_ERRNOS = frozenset(
    {
        errno.EMFILE,  # this process has no file descriptor left
        errno.ENFILE,  # the system has none left
        errno.ENOMEM,
        errno.ENOBUFS,
    }
)
ACCEPT_RETRY_DELAY = 0.100  # seconds

LOGGER = logging.getLogger("nursery.serve_listeners")


async def _run_handler(stream: StreamT, handler: Callable[[StreamT], Awaitable[object]]) -> None:
    try:
        await handler(stream)
    finally:
        # However the handler ended, close at once: no graceful goodbye to wait for.
        await aclose_forcefully(stream)


async def _accept_forever(
    listener: Listener[StreamT],
    handler_nursery: Nursery,
    handler: Callable[[StreamT], Awaitable[object]],
) -> NoReturn:
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                if exc.errno not in ACCEPT_CAPACITY_ERRNOS:
                    raise
                LOGGER.error(
                    "accept() failed with %s (%s); retrying in %s seconds",
                    errno.errorcode.get(exc.errno, exc.errno),
                    os.strerror(exc.errno),
                    ACCEPT_RETRY_DELAY,
                    exc_info=True,
                )
                await sleep(ACCEPT_RETRY_DELAY)
            else:
                handler_nursery.start_soon(_run_handler, stream, handler)


async def serve_listeners(
    handler: Callable[[StreamT], Awaitable[object]],
    listeners: Iterable[Listener[StreamT]],
    *,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[Any] = TASK_STATUS_IGNORED,
) -> NoReturn:
    """Accept connections on every listener, forever, and call ``await
    handler(stream)`` for each connection in a task of its own.

    The handler tasks run in ``handler_nursery`` if given, else in a nursery of this
    call (so they are cancelled with it). Each stream is closed when its handler
    returns or raises; an exception from a handler propagates out of the nursery it
    runs in. When ``accept()`` fails because the process or the system is out of file
    descriptors or memory (``EMFILE``, ``ENFILE``, ``ENOMEM``, ``ENOBUFS``), the error
    is logged to the ``"nursery.serve_listeners"`` logger and accepting resumes 100 ms
    later; any other error from ``accept()`` propagates. Each listener is closed when
    its accept loop ends.

    Use it with ``nursery.start()``: ``task_status.started(listeners)`` is called once
    every accept loop is running. Never returns; cancel it to stop serving.
    """
    # The handler is not checked here: Trio's accept loop never calls it until a
    # connection arrives, and code (Trio's own tests among it) relies on passing None.
    listener_list = list(listeners)
    if not listener_list:
        raise ValueError("serve_listeners() needs at least one listener")
    if handler_nursery is not None and not isinstance(handler_nursery, Nursery):
        raise TypeError(f"handler_nursery must be a Nursery or None, not {handler_nursery!r}")
    async with open_nursery() as nursery:
        target = nursery if handler_nursery is None else handler_nursery
        for listener in listener_list:
            nursery.start_soon(_accept_forever, listener, target, handler)
        # The listeners already queue connections: report them only once every accept
        # loop is scheduled, so that an error above is raised by start() instead.
        task_status.started(listeners if isinstance(listeners, list) else listener_list)
    raise AssertionError("an accept loop of serve_listeners() returned")


async def serve_tcp(
    handler: Callable[[SocketStream], Awaitable[object]],
    port: int,
    *,
    host: str | bytes | None = None,
    backlog: int | None = None,
    handler_nursery: Nursery | None = None,
    task_status: TaskStatus[Any] = TASK_STATUS_IGNORED,
) -> NoReturn:
    """Listen on TCP ``port`` (``open_tcp_listeners(port, host=host, backlog=backlog)``)
    and serve every connection with ``handler`` (``serve_listeners``), forever.

    With ``nursery.start()``, it reports the list of ``SocketListener`` s it listens on,
    which tells which port the kernel picked for ``port=0``::

        listeners = await n.start(nursery.serve_tcp, handler, 0)
        port = listeners[0].socket.getsockname()[1]
    """
    if handler_nursery is not None and not isinstance(handler_nursery, Nursery):
        # Checked before any listener exists, so that nothing is left open.
        raise TypeError(f"handler_nursery must be a Nursery or None, not {handler_nursery!r}")
    listeners = await open_tcp_listeners(port, host=host, backlog=backlog)
    await serve_listeners(
        handler, listeners, handler_nursery=handler_nursery, task_status=task_status
    )
