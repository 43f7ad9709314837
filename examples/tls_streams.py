"""TLS over any byte stream: SSLStream over an in-memory stream pair, with certificates
made on the fly by trustme. Shows the handshake, the session information, closing with
close_notify, https_compatible, a certificate that does not match, and unwrap() for a
STARTTLS-style protocol."""

import ssl
import sys

import nursery
from nursery.testing import MockClock, memory_stream_pair

try:
    import trustme
except ImportError:  # trustme is a test dependency: pip install trustme
    trustme = None


def make_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()  # a throwaway certificate authority, for this example only
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("server.example").configure_cert(server_context)
    # The client's default context checks the certificate and the host name.
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return client_context, server_context


async def greeting(client_context: ssl.SSLContext, server_context: ssl.SSLContext) -> None:
    client_transport, server_transport = memory_stream_pair()  # any Stream will do
    client = nursery.SSLStream(client_transport, client_context, server_hostname="server.example")
    server = nursery.SSLStream(server_transport, server_context, server_side=True)

    async def serve() -> None:
        name = await server.receive_some()  # the handshake happens here...
        await server.send_all(b"hello, " + name)
        assert await server.receive_some() == b""  # the client's close_notify
        await server.aclose()

    async with nursery.open_nursery() as n:
        n.start_soon(serve)
        await client.send_all(b"client")  # ...and here, on the other side
        assert await client.receive_some() == b"hello, client"
        await client.aclose()  # sends close_notify, closes the transport
    print("greeting:", client.version(), client.cipher()[0])


async def look_before_talking(
    client_context: ssl.SSLContext, server_context: ssl.SSLContext
) -> None:
    client_transport, server_transport = memory_stream_pair()
    client = nursery.SSLStream(client_transport, client_context, server_hostname="server.example")
    server = nursery.SSLStream(server_transport, server_context, server_side=True)
    try:
        client.getpeercert()
    except nursery.NeedHandshakeError:
        pass  # nothing to look at before the handshake
    async with nursery.open_nursery() as n:
        n.start_soon(server.do_handshake)
        await client.do_handshake()
    subject_alt_names = client.getpeercert()["subjectAltName"]
    assert ("DNS", "server.example") in subject_alt_names
    print("peer certificate is for:", subject_alt_names)
    await client.aclose()
    await server.aclose()


async def wrong_host_name(client_context: ssl.SSLContext, server_context: ssl.SSLContext) -> None:
    client_transport, server_transport = memory_stream_pair()
    client = nursery.SSLStream(client_transport, client_context, server_hostname="other.example")
    server = nursery.SSLStream(server_transport, server_context, server_side=True)

    async def serve() -> None:
        try:
            await server.do_handshake()
        except nursery.BrokenResourceError:
            pass  # the client hung up mid-handshake
        await server.aclose()

    async with nursery.open_nursery() as n:
        n.start_soon(serve)
        try:
            await client.send_all(b"secret")
        except nursery.BrokenResourceError as exc:
            # The ssl module's own error is the __cause__.
            assert isinstance(exc.__cause__, ssl.SSLCertVerificationError)
            print("refused:", exc.__cause__.verify_message)
        await client.aclose()  # always closes the transport


async def https_style_close(client_context: ssl.SSLContext, server_context: ssl.SSLContext) -> None:
    # HTTPS peers often just drop the connection, with no close_notify; both ends
    # here agree to treat that as a normal end of the stream.
    client_transport, server_transport = memory_stream_pair()
    client = nursery.SSLStream(
        client_transport, client_context, server_hostname="server.example", https_compatible=True
    )
    server = nursery.SSLStream(
        server_transport, server_context, server_side=True, https_compatible=True
    )

    async def serve() -> None:
        assert await server.receive_some() == b"GET / HTTP/1.0\r\n\r\n"
        assert await server.receive_some() == b""  # the transport ended: a clean end
        await server.aclose()

    async with nursery.open_nursery() as n:
        n.start_soon(serve)
        await client.send_all(b"GET / HTTP/1.0\r\n\r\n")
        await client.aclose()  # https_compatible: no close_notify, just the transport


async def starttls(client_context: ssl.SSLContext, server_context: ssl.SSLContext) -> None:
    # Clear text, then TLS over the same transport, then clear text again.
    client_transport, server_transport = memory_stream_pair()

    async def serve() -> None:
        assert await server_transport.receive_some() == b"STARTTLS\n"
        await server_transport.send_all(b"GO\n")
        server = nursery.SSLStream(server_transport, server_context, server_side=True)
        assert await server.receive_some() == b"password"
        transport, trailing = await server.unwrap()
        rest = trailing or await transport.receive_some()
        assert rest == b"QUIT\n"  # in clear again

    async with nursery.open_nursery() as n:
        n.start_soon(serve)
        await client_transport.send_all(b"STARTTLS\n")
        assert await client_transport.receive_some() == b"GO\n"  # TLS from here on
        client = nursery.SSLStream(
            client_transport, client_context, server_hostname="server.example"
        )
        await client.send_all(b"password")
        transport, trailing = await client.unwrap()  # close_notify both ways
        assert transport is client_transport and trailing == b""
        await transport.send_all(b"QUIT\n")
    print("starttls: clear, encrypted, clear again")


async def stalled_peer(client_context: ssl.SSLContext) -> None:
    transport, peer_transport = memory_stream_pair()
    stream = nursery.SSLStream(transport, client_context, server_hostname="server.example")
    async with nursery.open_nursery() as n:
        n.start_soon(peer_transport.receive_some)  # takes the ClientHello, never answers
        with nursery.move_on_after(10):
            await stream.do_handshake()
        # cancelled? then the stream is broken: aclose() closes the transport
        await stream.aclose()
    try:
        await transport.send_all(b"x")
    except nursery.ClosedResourceError:
        print("stalled handshake given up after", nursery.current_time(), "virtual seconds")


async def main(client_context: ssl.SSLContext, server_context: ssl.SSLContext) -> None:
    await greeting(client_context, server_context)
    await look_before_talking(client_context, server_context)
    await wrong_host_name(client_context, server_context)
    await https_style_close(client_context, server_context)
    await starttls(client_context, server_context)


if __name__ == "__main__":
    if trustme is None:
        print("skipped: this example needs trustme (pip install trustme)")
        sys.exit(0)
    client_context, server_context = make_contexts()
    nursery.run(main, client_context, server_context)
    # A run of its own, on a clock that jumps ahead whenever every task waits.
    nursery.run(stalled_peer, client_context, clock=MockClock(autojump_threshold=0))
