"""TCP echo server on asyncio streams: ``asyncio.start_server`` with a
``StreamReader``/``StreamWriter`` pair per connection, ``write`` then ``await drain()``.
``--loop uvloop`` runs the same code on uvloop. See ``_server_cli.py``."""

from __future__ import annotations

import asyncio

from benchmarks.echo._server_cli import RECEIVE_BYTES, announce, parse_args


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(RECEIVE_BYTES):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main(host: str, port: int, loop: str) -> None:
    server = await asyncio.start_server(echo, host, port)
    announce(server.sockets[0].getsockname()[1], f"asyncio streams ({loop} loop)")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0], loops=("asyncio", "uvloop"))
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args.host, args.port, args.loop))
    else:
        asyncio.run(main(args.host, args.port, args.loop))
