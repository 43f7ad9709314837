"""open_ssl_over_tcp_stream, open_ssl_over_tcp_listeners and serve_ssl_over_tcp, on
loopback only, with trustme certificates for 127.0.0.1."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import pytest
import trustme

import nursery
from nursery import (
    BrokenResourceError,
    SocketListener,
    SSLListener,
    SSLStream,
    open_ssl_over_tcp_listeners,
    open_ssl_over_tcp_stream,
    serve_ssl_over_tcp,
)

CA = trustme.CA()
SERVER_CTX = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
CA.issue_cert("127.0.0.1", "localhost").configure_cert(SERVER_CTX)
CLIENT_CTX = ssl.create_default_context()
CA.configure_trust(CLIENT_CTX)


async def echo_once(stream: SSLStream[Any]) -> None:
    data = await stream.receive_some()
    await stream.send_all(data.upper())
    assert await stream.receive_some() == b""


def port_of(listener: SSLListener[Any]) -> int:
    transport = listener.transport_listener
    assert isinstance(transport, SocketListener)
    port: int = transport.socket.getsockname()[1]
    return port


@pytest.mark.parametrize("https_compatible", [False, True])
async def test_serve_and_connect(https_compatible: bool) -> None:
    async with nursery.open_nursery() as n:
        serve = functools.partial(
            serve_ssl_over_tcp, host="127.0.0.1", https_compatible=https_compatible
        )
        listeners = await n.start(serve, echo_once, 0, SERVER_CTX)
        assert all(isinstance(listener, SSLListener) for listener in listeners)
        assert all(listener._https_compatible is https_compatible for listener in listeners)
        stream = await open_ssl_over_tcp_stream(
            "127.0.0.1",
            port_of(listeners[0]),
            ssl_context=CLIENT_CTX,
            https_compatible=https_compatible,
        )
        async with stream:
            assert stream.server_hostname == "127.0.0.1"
            await stream.send_all(b"hello over tls")
            assert await stream.receive_some() == b"HELLO OVER TLS"
            assert stream.version() is not None
        n.cancel_scope.cancel()


async def test_listeners_accept_and_wrap() -> None:
    listeners = await open_ssl_over_tcp_listeners(0, SERVER_CTX, host="127.0.0.1", backlog=5)
    assert len(listeners) == 1
    (listener,) = listeners
    async with listener:
        client = await open_ssl_over_tcp_stream(
            "127.0.0.1", port_of(listener), ssl_context=CLIENT_CTX
        )
        server = await listener.accept()
        assert server.server_side

        async def server_side() -> None:
            await echo_once(server)
            await server.aclose()

        async def client_side() -> None:
            await client.send_all(b"abc")
            assert await client.receive_some() == b"ABC"
            await client.aclose()

        async with nursery.open_nursery() as n:
            n.start_soon(server_side)
            n.start_soon(client_side)


async def test_default_context_verifies_the_certificate() -> None:
    # No ssl_context: the system's trusted CAs, which do not include our test CA.
    listeners = await open_ssl_over_tcp_listeners(0, SERVER_CTX, host="127.0.0.1")
    async with listeners[0] as listener:
        client = await open_ssl_over_tcp_stream("127.0.0.1", port_of(listener))
        assert client.context.verify_mode == ssl.CERT_REQUIRED
        assert client.context.check_hostname
        server = await listener.accept()

        async def server_side() -> None:
            with pytest.raises(BrokenResourceError):
                await server.do_handshake()
            await server.aclose()

        async with nursery.open_nursery() as n:
            n.start_soon(server_side)
            with pytest.raises(BrokenResourceError) as info:
                await client.do_handshake()
            assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
            await client.aclose()


async def test_bad_arguments_open_nothing() -> None:
    with pytest.raises(TypeError, match="ssl_context"):
        await open_ssl_over_tcp_stream("127.0.0.1", 1, ssl_context="ctx")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ssl_context"):
        await open_ssl_over_tcp_listeners(0, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler_nursery"):
        await serve_ssl_over_tcp(
            echo_once,
            0,
            SERVER_CTX,
            handler_nursery=object(),  # type: ignore[arg-type]
        )


async def test_connection_refused_is_an_os_error() -> None:
    # A port nobody listens on: take one from a listener and close it.
    listeners = await open_ssl_over_tcp_listeners(0, SERVER_CTX, host="127.0.0.1")
    port = port_of(listeners[0])
    await listeners[0].aclose()
    with pytest.raises(OSError):
        await open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=CLIENT_CTX)
