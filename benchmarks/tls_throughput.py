"""TLS over a socketpair: bulk throughput (one task sends 64 KiB chunks, another
receives) and a small-message ping-pong, for ``nursery.SSLStream`` against
``trio.SSLStream``. Both use the same ssl contexts (TLS 1.3, certificates from
trustme). Prints MB/s and microseconds per round trip, of this process's CPU time
(steadier than wall-clock time on a shared machine), best of ``repeats``.

    python -m benchmarks.tls_throughput [mebibytes] [round_trips] [repeats]
"""

from __future__ import annotations

import socket
import ssl
import sys
import time
from types import ModuleType
from typing import Any

import trustme

CHUNK = b"x" * 65536
MESSAGE = b"x" * 64


def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("bench.example").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return client_context, server_context


async def _pair(lib: Any) -> tuple[Any, Any]:
    a, b = socket.socketpair()
    client_context, server_context = CONTEXTS
    client = lib.SSLStream(
        lib.SocketStream(lib.socket.from_stdlib_socket(a)),
        client_context,
        server_hostname="bench.example",
    )
    server = lib.SSLStream(
        lib.SocketStream(lib.socket.from_stdlib_socket(b)), server_context, server_side=True
    )
    async with lib.open_nursery() as n:
        n.start_soon(client.do_handshake)
        n.start_soon(server.do_handshake)
    return client, server


def bench_bulk(lib: ModuleType, total: int) -> float:
    """CPU seconds to move ``total`` bytes one way."""

    async def main() -> float:
        client, server = await _pair(lib)

        async def send() -> None:
            for _ in range(total // len(CHUNK)):
                await client.send_all(CHUNK)

        async def receive() -> None:
            got = 0
            while got < total:
                got += len(await server.receive_some())

        start = time.process_time()
        async with lib.open_nursery() as n:
            n.start_soon(send)
            n.start_soon(receive)
        elapsed = time.process_time() - start
        await client.aclose()
        await server.aclose()
        return elapsed

    result: float = lib.run(main)
    return result


def bench_pingpong(lib: ModuleType, round_trips: int) -> float:
    """CPU seconds for ``round_trips`` round trips of a 64-byte message."""

    async def main() -> float:
        client, server = await _pair(lib)

        async def echo() -> None:
            for _ in range(round_trips):
                data = await server.receive_some()
                await server.send_all(data)

        start = time.process_time()
        async with lib.open_nursery() as n:
            n.start_soon(echo)
            for _ in range(round_trips):
                await client.send_all(MESSAGE)
                await client.receive_some()
        elapsed = time.process_time() - start
        await client.aclose()
        await server.aclose()
        return elapsed

    result: float = lib.run(main)
    return result


CONTEXTS = contexts()


def main(argv: list[str]) -> None:
    mebibytes = int(argv[0]) if argv else 64
    round_trips = int(argv[1]) if len(argv) > 1 else 5000
    repeats = int(argv[2]) if len(argv) > 2 else 3
    import nursery

    libs: list[ModuleType] = [nursery]
    try:
        import trio

        libs.append(trio)
    except ImportError:
        print("trio is not installed: measuring nursery only")
    total = mebibytes * 1024 * 1024
    for lib in libs:
        bulk = min(bench_bulk(lib, total) for _ in range(repeats))
        pingpong = min(bench_pingpong(lib, round_trips) for _ in range(repeats))
        print(
            f"{lib.__name__:>8}: bulk {total / bulk / 1e6:6.0f} MB/s per CPU-second, "
            f"ping-pong {pingpong / round_trips * 1e6:6.1f} us per round trip (CPU)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
