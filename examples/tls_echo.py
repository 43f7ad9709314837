"""A TLS echo server and its clients on loopback: serve_ssl_over_tcp on a port the kernel
picks, open_ssl_over_tcp_stream to connect, with certificates made on the fly by
trustme (for 127.0.0.1, so that the client's host-name check passes)."""

import functools
import ssl
import sys

import nursery

try:
    import trustme
except ImportError:  # trustme is a test dependency: pip install trustme
    trustme = None


async def echo_handler(stream: nursery.SSLStream[nursery.SocketStream]) -> None:
    # One task per connection. The handshake happens on the first receive; a client
    # that fails it is this connection's problem only, not the server's.
    try:
        async for data in stream:
            await stream.send_all(data)
    except nursery.BrokenResourceError as exc:
        print("a connection failed:", exc.__cause__ or exc)


async def client(port: int, client_context: ssl.SSLContext, message: bytes) -> bytes:
    stream = await nursery.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=client_context)
    async with stream:  # aclose() sends close_notify and closes the socket
        await stream.do_handshake()  # an untrusted certificate fails here
        echoed = b""
        async with nursery.open_nursery() as n:
            # Send and receive at once: a large message would otherwise fill the
            # buffers both ways, with each side waiting for the other to read.
            n.start_soon(stream.send_all, message)
            while len(echoed) < len(message):
                echoed += await stream.receive_some()
        return echoed


async def main() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async with nursery.open_nursery() as n:
        serve = functools.partial(nursery.serve_ssl_over_tcp, host="127.0.0.1")
        listeners = await n.start(serve, echo_handler, 0, server_context)
        port = listeners[0].transport_listener.socket.getsockname()[1]

        # Three clients at once, one with a large message.
        messages = [b"hello", b"over TLS", b"x" * 1_000_000]
        echoes = await nursery.gather(
            *[functools.partial(client, port, client_context, m) for m in messages]
        )
        assert echoes == messages
        print(f"echoed {len(messages)} messages over TLS on port {port}")

        # A client that does not trust our CA: its handshake fails, the server goes on.
        try:
            await client(port, ssl.create_default_context(), b"untrusted")
        except nursery.BrokenResourceError as exc:
            assert isinstance(exc.__cause__, ssl.SSLCertVerificationError)
            print("untrusted client refused:", exc.__cause__.verify_message)
        assert await client(port, client_context, b"still serving") == b"still serving"

        n.cancel_scope.cancel()  # stop serving


if __name__ == "__main__":
    if trustme is None:
        print("skipped: this example needs trustme (pip install trustme)")
        sys.exit(0)
    nursery.run(main)
