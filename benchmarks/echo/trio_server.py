"""TCP echo server on Trio: ``trio.serve_tcp`` and ``SocketStream``, as Trio's docs
teach it. One task per connection; run as ``python -m benchmarks.echo.trio_server``."""

from __future__ import annotations

import functools

import trio

from benchmarks.echo._server_cli import RECEIVE_BYTES, announce, parse_args


async def echo(stream: trio.SocketStream) -> None:
    async with stream:
        while data := await stream.receive_some(RECEIVE_BYTES):
            await stream.send_all(data)


async def main(host: str, port: int) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, echo, port, host=host))
        announce(listeners[0].socket.getsockname()[1], "trio.serve_tcp + SocketStream")


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    trio.run(main, args.host, args.port)
