"""TCP echo server on nursery. One task per connection; see ``_server_cli.py``.

``--api high`` (what the default, ``auto``, picks whenever nursery has it) is the
idiomatic program, the same as the Trio server's: ``nursery.serve_tcp`` and
``SocketStream``. ``--api lowlevel`` was the stand-in before those existed and is kept
for comparison: stdlib non-blocking sockets driven by
``nursery.lowlevel.wait_readable``/``wait_writable``, each receive and send a
checkpoint as a ``SocketStream``'s is (cancel point before, schedule point after), so
the difference between the two is what the stream and socket layers cost.
"""

from __future__ import annotations

import functools
import socket

import nursery
import nursery.lowlevel
from benchmarks.echo._server_cli import RECEIVE_BYTES, announce, parse_args


def has_high_level_api() -> bool:
    return hasattr(nursery, "serve_tcp") and hasattr(nursery, "SocketStream")


# --- the idiomatic server: serve_tcp + SocketStream


async def echo_stream(stream: nursery.SocketStream) -> None:
    async with stream:
        while data := await stream.receive_some(RECEIVE_BYTES):
            await stream.send_all(data)


async def main_high_level(host: str, port: int) -> None:
    async with nursery.open_nursery() as tasks:
        serve = functools.partial(nursery.serve_tcp, echo_stream, port, host=host)
        listeners = await tasks.start(serve)
        announce(listeners[0].socket.getsockname()[1], "nursery.serve_tcp + SocketStream")


# --- the stand-in: stdlib sockets on the kernel's I/O waits


async def receive_some(sock: socket.socket) -> bytes:
    await nursery.lowlevel.checkpoint_if_cancelled()
    while True:
        try:
            data = sock.recv(RECEIVE_BYTES)
        except BlockingIOError:
            await nursery.lowlevel.wait_readable(sock)
        else:
            await nursery.lowlevel.cancel_shielded_checkpoint()
            return data


async def send_all(sock: socket.socket, data: bytes) -> None:
    await nursery.lowlevel.checkpoint_if_cancelled()
    with memoryview(data) as view:
        remaining = view
        while remaining:
            try:
                sent = sock.send(remaining)
            except BlockingIOError:
                await nursery.lowlevel.wait_writable(sock)
            else:
                remaining = remaining[sent:]
    await nursery.lowlevel.cancel_shielded_checkpoint()


async def echo_socket(sock: socket.socket) -> None:
    with sock:
        while data := await receive_some(sock):
            await send_all(sock, data)
        nursery.lowlevel.notify_closing(sock)


async def main_lowlevel(host: str, port: int) -> None:
    listener = socket.create_server((host, port), backlog=1024)
    listener.setblocking(False)
    announce(listener.getsockname()[1], "nursery.lowlevel.wait_readable on stdlib sockets")
    async with nursery.open_nursery() as tasks:
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                await nursery.lowlevel.wait_readable(listener)
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tasks.start_soon(echo_socket, sock)


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0], apis=("auto", "high", "lowlevel"))
    api = args.api if args.api != "auto" else "high" if has_high_level_api() else "lowlevel"
    main = main_high_level if api == "high" else main_lowlevel
    nursery.run(main, args.host, args.port)
