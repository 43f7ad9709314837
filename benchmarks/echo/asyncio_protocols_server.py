"""TCP echo server on asyncio protocols: ``loop.create_server`` with a ``Protocol``
whose ``data_received`` writes the data straight back to its transport (no tasks, no
coroutines per message). ``--loop uvloop`` runs it on uvloop. See ``_server_cli.py``."""

from __future__ import annotations

import asyncio
from typing import cast

from benchmarks.echo._server_cli import announce, parse_args


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not subclass asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def main(host: str, port: int, loop: str) -> None:
    server = await asyncio.get_running_loop().create_server(Echo, host, port)
    announce(server.sockets[0].getsockname()[1], f"asyncio protocols ({loop} loop)")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0], loops=("asyncio", "uvloop"))
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args.host, args.port, args.loop))
    else:
        asyncio.run(main(args.host, args.port, args.loop))
