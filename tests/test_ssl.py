"""SSLStream and SSLListener over in-memory transports, with certificates made on the fly
by trustme: no network, no files, no sleeps."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trustme

import nursery
from nursery import (
    BrokenResourceError,
    BusyResourceError,
    CancelScope,
    ClosedResourceError,
    NeedHandshakeError,
    SSLListener,
    SSLStream,
)
from nursery.abc import Listener, Stream
from nursery.testing import (
    MockClock,
    Sequencer,
    assert_checkpoints,
    check_two_way_stream,
    lockstep_stream_pair,
    memory_stream_pair,
    wait_all_tasks_blocked,
)

HOST = "tls-test.example.org"
CA = trustme.CA()
OTHER_CA = trustme.CA()
SERVER_CERT = CA.issue_cert(HOST)


def server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    SERVER_CERT.configure_cert(context)
    return context


def client_context(ca: trustme.CA = CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


SERVER_CTX = server_context()
CLIENT_CTX = client_context()
# TLS 1.2 differs where it matters here: no session tickets after the handshake, and a
# different close_notify dance.
CLIENT_CTX_TLS12 = client_context()
CLIENT_CTX_TLS12.maximum_version = ssl.TLSVersion.TLSv1_2
VERSIONS = pytest.mark.parametrize(
    "client_ctx", [CLIENT_CTX, CLIENT_CTX_TLS12], ids=["tls1.3", "tls1.2"]
)


def ssl_pair(
    *,
    lockstep: bool = False,
    client_ctx: ssl.SSLContext = CLIENT_CTX,
    hostname: str = HOST,
    client_kwargs: dict[str, Any] | None = None,
    server_kwargs: dict[str, Any] | None = None,
) -> tuple[SSLStream[Any], SSLStream[Any]]:
    client_transport, server_transport = (
        lockstep_stream_pair() if lockstep else memory_stream_pair()
    )
    client = SSLStream(
        client_transport, client_ctx, server_hostname=hostname, **(client_kwargs or {})
    )
    server = SSLStream(server_transport, SERVER_CTX, server_side=True, **(server_kwargs or {}))
    return client, server


async def both(*fns: Callable[[], Awaitable[object]]) -> None:
    async with nursery.open_nursery() as n:
        for fn in fns:
            n.start_soon(fn)


async def handshaken_pair(**kwargs: Any) -> tuple[SSLStream[Any], SSLStream[Any]]:
    client, server = ssl_pair(**kwargs)
    await both(client.do_handshake, server.do_handshake)
    return client, server


class OpCountingStream(Stream):
    """Wraps a transport and calls ``before_op()`` before each of its operations."""

    def __init__(self, inner: Stream, before_op: Callable[[], None]) -> None:
        self.inner = inner
        self.before_op = before_op
        self.closed = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self.before_op()
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        self.before_op()
        return await self.inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


# -- handshake and session information ------------------------------------------------


async def test_handshake_and_session_information() -> None:
    client, server = ssl_pair()
    for stream in (client, server):
        for call in (
            stream.getpeercert,
            stream.cipher,
            stream.version,
            stream.selected_alpn_protocol,
            stream.shared_ciphers,
            stream.compression,
            stream.get_channel_binding,
        ):
            with pytest.raises(NeedHandshakeError):
                call()
        with pytest.raises(NeedHandshakeError):
            stream.session_reused  # noqa: B018
    # Known before the handshake: what this end was configured with.
    assert client.server_side is False and server.server_side is True
    assert client.server_hostname == HOST
    assert client.context is CLIENT_CTX
    assert client.pending() == 0

    await both(client.do_handshake, server.do_handshake)
    cert = client.getpeercert()
    assert ("DNS", HOST) in cert["subjectAltName"]
    assert isinstance(client.getpeercert(binary_form=True), bytes)
    assert server.getpeercert() is None  # the server asked for no client certificate
    assert client.version() == server.version() == "TLSv1.3"
    assert client.cipher() == server.cipher()
    assert client.selected_alpn_protocol() is None
    assert client.session_reused is False
    assert client.transport_stream is not None
    # Done: do_handshake is now only a checkpoint.
    with assert_checkpoints():
        await client.do_handshake()


async def test_alpn_is_negotiated() -> None:
    client_ctx = client_context()
    client_ctx.set_alpn_protocols(["h2", "http/1.1"])
    server_ctx = server_context()
    server_ctx.set_alpn_protocols(["http/1.1"])
    client_transport, server_transport = memory_stream_pair()
    client = SSLStream(client_transport, client_ctx, server_hostname=HOST)
    server = SSLStream(server_transport, server_ctx, server_side=True)
    await both(client.do_handshake, server.do_handshake)
    assert client.selected_alpn_protocol() == server.selected_alpn_protocol() == "http/1.1"


async def test_first_send_or_receive_does_the_handshake() -> None:
    client, server = ssl_pair(lockstep=True)

    async def client_side() -> None:
        await client.send_all(b"ping")
        assert await client.receive_some() == b"pong"

    async def server_side() -> None:
        assert await server.receive_some() == b"ping"
        await server.send_all(b"pong")

    await both(client_side, server_side)
    assert client.version() is not None


async def test_concurrent_handshakes_share_one() -> None:
    client, server = ssl_pair()
    # Three tasks want the handshake at once; one does it, the others wait for it.
    await both(client.do_handshake, client.do_handshake, client.do_handshake, server.do_handshake)
    assert client.cipher() is not None


async def test_tls13_server_handshake_does_not_wait_for_a_client_that_only_sends() -> None:
    # On a transport with no buffering, a server that sent its session tickets as
    # soon as its handshake ends would wait for a client that is not reading.
    client, server = ssl_pair(lockstep=True)

    async def client_side() -> None:
        await client.do_handshake()
        await client.send_all(b"request")

    async def server_side() -> None:
        await server.do_handshake()
        assert await server.receive_some() == b"request"

    await both(client_side, server_side)

    # The tickets go out with the server's first bytes, and the client reads them.
    async def server_reply() -> None:
        await server.send_all(b"reply")

    async def client_read() -> None:
        assert await client.receive_some() == b"reply"

    await both(server_reply, client_read)


async def test_tls_over_tls() -> None:
    # A TLS session inside another one (a proxy's tunnel): any Stream is a transport.
    outer_client, outer_server = await handshaken_pair()
    inner_client = SSLStream(outer_client, CLIENT_CTX, server_hostname=HOST)
    inner_server = SSLStream(outer_server, SERVER_CTX, server_side=True)

    async def client_side() -> None:
        await inner_client.send_all(b"deep")
        assert await inner_client.receive_some() == b"deeper"
        await inner_client.aclose()

    async def server_side() -> None:
        assert await inner_server.receive_some() == b"deep"
        await inner_server.send_all(b"deeper")
        assert await inner_server.receive_some() == b""
        await inner_server.aclose()

    await both(client_side, server_side)
    with pytest.raises(ClosedResourceError):
        await outer_client.send_all(b"x")


# -- data --------------------------------------------------------------------------------


@pytest.mark.parametrize("lockstep", [False, True], ids=["buffered", "lockstep"])
@VERSIONS
async def test_large_data_both_ways_at_once(lockstep: bool, client_ctx: ssl.SSLContext) -> None:
    # Four tasks: each end sends and receives at the same time, from the very start
    # (so the handshake too is started by whoever comes first).
    client, server = ssl_pair(lockstep=lockstep, client_ctx=client_ctx)
    payload = bytes(range(256)) * 4096 + b"end"  # ~1 MiB, not a multiple of anything

    async def send(stream: SSLStream[Any]) -> None:
        view = memoryview(payload)
        for start in range(0, len(payload), 300_000):
            await stream.send_all(view[start : start + 300_000])

    async def receive(stream: SSLStream[Any], into: bytearray) -> None:
        while len(into) < len(payload):
            data = await stream.receive_some()
            assert data
            into += data

    from_client, from_server = bytearray(), bytearray()
    async with nursery.open_nursery() as n:
        n.start_soon(send, client)
        n.start_soon(send, server)
        n.start_soon(receive, server, from_client)
        n.start_soon(receive, client, from_server)
    assert from_client == payload
    assert from_server == payload


async def test_receive_some_respects_max_bytes() -> None:
    client, server = await handshaken_pair()
    await client.send_all(b"abcdefgh")
    assert await server.receive_some(3) == b"abc"
    assert server.pending() == 5
    # Already decrypted: a checkpoint, but no transport I/O.
    with assert_checkpoints():
        assert await server.receive_some(100) == b"defgh"


async def test_send_all_empty_is_a_checkpoint_and_sends_nothing() -> None:
    client, server = await handshaken_pair()
    with assert_checkpoints():
        await client.send_all(b"")
    await client.send_all(b"x")
    assert await server.receive_some() == b"x"


async def test_send_all_takes_any_bytes_like() -> None:
    client, server = await handshaken_pair()
    await client.send_all(bytearray(b"ab"))
    await client.send_all(memoryview(b"cd"))
    import array

    await client.send_all(memoryview(array.array("H", [0x6665])))  # two bytes: "ef"
    received = b""
    while len(received) < 6:
        received += await server.receive_some()
    assert received == b"abcdef"


async def test_bad_arguments() -> None:
    client, server = ssl_pair()
    with pytest.raises(TypeError, match="data"):
        await client.send_all("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        await client.receive_some(0)
    with pytest.raises(TypeError, match="max_bytes"):
        await client.receive_some(1.5)  # type: ignore[arg-type]
    # Nothing happened: the stream is still fine.
    await both(client.do_handshake, server.do_handshake)

    transport, _ = memory_stream_pair()
    with pytest.raises(TypeError, match="ssl_context"):
        SSLStream(transport, "context")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="server_hostname"):
        SSLStream(transport, CLIENT_CTX, server_hostname=42)  # type: ignore[arg-type]
    # The default context checks host names, so a client must name the server.
    with pytest.raises(ValueError, match="server_hostname"):
        SSLStream(transport, CLIENT_CTX)
    with pytest.raises(TypeError, match="ssl_context"):
        SSLListener(FakeListener([]), None)  # type: ignore[arg-type]


# -- closing --------------------------------------------------------------------------------


@VERSIONS
async def test_graceful_close_both_ways(client_ctx: ssl.SSLContext) -> None:
    client, server = await handshaken_pair(client_ctx=client_ctx)

    async def client_closes() -> None:
        with assert_checkpoints():
            await client.aclose()

    async def server_sees_eof_then_closes() -> None:
        assert await server.receive_some() == b""
        assert await server.receive_some() == b""  # and again
        # The client's transport is gone: our close_notify has nowhere to go, which
        # is fine.
        with assert_checkpoints():
            await server.aclose()

    await both(client_closes, server_sees_eof_then_closes)
    # The transports are closed too.
    with pytest.raises(ClosedResourceError):
        await client.transport_stream.send_all(b"x")
    with pytest.raises(ClosedResourceError):
        await server.transport_stream.send_all(b"x")
    # Closing again: a checkpoint that does nothing.
    with assert_checkpoints():
        await client.aclose()


async def test_aclose_does_not_wait_for_a_peer_that_never_answers() -> None:
    client, server = await handshaken_pair()
    # The server is not reading at all: aclose sends close_notify and leaves.
    await client.aclose()
    # The close_notify did arrive, whenever the server gets round to reading.
    assert await server.receive_some() == b""
    await server.aclose()


async def test_aclose_before_the_handshake_does_it_so_the_peer_sees_a_clean_eof() -> None:
    client, server = ssl_pair()

    async def server_side() -> None:
        assert await server.receive_some() == b""
        await server.aclose()

    await both(client.aclose, server_side)


async def test_aclose_whose_handshake_fails_raises_and_closes_the_transport() -> None:
    client, server = ssl_pair(client_ctx=client_context(OTHER_CA))

    async def server_side() -> None:
        with pytest.raises(BrokenResourceError):
            await server.do_handshake()
        await server.aclose()

    async with nursery.open_nursery() as n:
        n.start_soon(server_side)
        with pytest.raises(BrokenResourceError) as info:
            await client.aclose()
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    with pytest.raises(ClosedResourceError):
        await client.transport_stream.send_all(b"x")


async def test_closed_stream_raises_closed_resource_error() -> None:
    client, server = await handshaken_pair()
    await client.aclose()
    with pytest.raises(ClosedResourceError):
        await client.send_all(b"x")
    with pytest.raises(ClosedResourceError):
        await client.receive_some()
    with pytest.raises(ClosedResourceError):
        await client.do_handshake()
    with pytest.raises(ClosedResourceError):
        await client.unwrap()
    with pytest.raises(ClosedResourceError):
        await client.wait_send_all_might_not_block()
    await server.aclose()


async def test_aclose_in_another_task_wakes_a_blocked_receiver() -> None:
    client, server = await handshaken_pair()

    async def receiver() -> None:
        with pytest.raises(ClosedResourceError):
            await client.receive_some()

    async with nursery.open_nursery() as n:
        n.start_soon(receiver)
        await wait_all_tasks_blocked()
        await client.aclose()
    await server.aclose()


async def test_forceful_close_sends_no_close_notify() -> None:
    client, server = await handshaken_pair()
    with CancelScope() as scope:
        scope.cancel()
        await client.aclose()  # cancelled: no goodbye, but the transport is closed
    with pytest.raises(ClosedResourceError):
        await client.transport_stream.send_all(b"x")
    with pytest.raises(BrokenResourceError) as info:
        await server.receive_some()
    assert isinstance(info.value.__cause__, ssl.SSLEOFError)
    with pytest.raises(BrokenResourceError):
        await server.send_all(b"x")
    await server.aclose()


async def test_aclose_closes_the_transport_once() -> None:
    client, server = await handshaken_pair()
    closes = 0

    def count() -> None:
        nonlocal closes
        closes += 1

    client.transport_stream.send_stream.close_hook = count
    await both(client.aclose, server.aclose)
    await client.aclose()
    assert closes == 1


# -- ragged EOF and https_compatible ----------------------------------------------------------


async def test_transport_ending_without_close_notify_is_broken_by_default() -> None:
    client, server = await handshaken_pair()
    await client.transport_stream.aclose()  # the TLS layer says nothing
    with pytest.raises(BrokenResourceError) as info:
        await server.receive_some()
    assert isinstance(info.value.__cause__, ssl.SSLEOFError)
    with pytest.raises(BrokenResourceError):
        await server.receive_some()
    await server.aclose()


async def test_https_compatible_treats_a_bare_transport_end_as_eof() -> None:
    kwargs = {"https_compatible": True}
    client, server = await handshaken_pair(client_kwargs=kwargs, server_kwargs=kwargs)
    await client.send_all(b"last words")
    await client.aclose()  # https_compatible: no close_notify, just the transport
    assert await server.receive_some() == b"last words"
    assert await server.receive_some() == b""
    with assert_checkpoints():
        assert await server.receive_some() == b""
    # Nothing can be sent on a session whose transport is gone.
    with pytest.raises(BrokenResourceError):
        await server.send_all(b"x")
    await server.aclose()
    with pytest.raises(ClosedResourceError):
        await server.receive_some()


async def test_https_compatible_disagreement() -> None:
    # A strict client talking to an https_compatible server that closes without
    # close_notify: the strict side calls that broken.
    client, server = await handshaken_pair(server_kwargs={"https_compatible": True})

    async def server_closes() -> None:
        await server.aclose()

    async def client_expects_broken() -> None:
        with pytest.raises(BrokenResourceError):
            await client.receive_some()

    await both(server_closes, client_expects_broken)
    await client.aclose()


async def test_https_compatible_eof_during_handshake_is_eof() -> None:
    kwargs = {"https_compatible": True}
    client, server = ssl_pair(client_kwargs=kwargs, server_kwargs=kwargs)

    async def server_expects_eof() -> None:
        assert await server.receive_some() == b""

    await both(client.aclose, server_expects_eof)
    await server.aclose()


async def test_eof_during_handshake_is_broken_by_default() -> None:
    client, server = ssl_pair()
    await client.transport_stream.aclose()
    with pytest.raises(BrokenResourceError):
        await server.receive_some()
    await server.aclose()


# -- unwrap ----------------------------------------------------------------------------------


@VERSIONS
async def test_unwrap_gives_the_transport_back_with_trailing_bytes(
    client_ctx: ssl.SSLContext,
) -> None:
    client, server = ssl_pair(client_ctx=client_ctx)
    client_transport = client.transport_stream
    server_transport = server.transport_stream
    seq = Sequencer()

    async def client_side() -> None:
        await client.send_all(b"x")
        assert await client.receive_some() == b"y"
        # Hold back what the client sends from now on, so that the server gets the
        # client's close_notify and the clear-text bytes after it in one lump.
        async with seq(0):
            pump = client_transport.send_stream.send_all_hook
            client_transport.send_stream.send_all_hook = None
        assert await client.receive_some() == b""  # the server's close_notify
        raw, trailing = await client.unwrap()
        assert raw is client_transport
        assert trailing == b""
        assert client.transport_stream is None
        await raw.send_all(b"in clear")
        client_transport.send_stream.send_all_hook = pump
        await pump()

    async def server_side() -> None:
        assert await server.receive_some() == b"x"
        await server.send_all(b"y")
        async with seq(1):
            raw, trailing = await server.unwrap()
        assert raw is server_transport
        assert trailing == b"in clear"
        assert server.transport_stream is None

    await both(client_side, server_side)
    # Unwrapped streams are closed; closing them does nothing (not the transport).
    await client.aclose()
    with pytest.raises(ClosedResourceError):
        await client.send_all(b"x")
    await client_transport.send_all(b"still open")
    assert await server_transport.receive_some() == b"still open"


# -- certificate checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_ca", "hostname"),
    [(CA, "wrong.example.org"), (OTHER_CA, HOST)],
    ids=["wrong-host-name", "unknown-ca"],
)
async def test_bad_certificate_is_a_clean_error(client_ca: trustme.CA, hostname: str) -> None:
    client, server = ssl_pair(client_ctx=client_context(client_ca), hostname=hostname)

    async def server_side() -> None:
        # The client gives up during the handshake: the server sees the end of its
        # transport mid-handshake.
        with pytest.raises(BrokenResourceError):
            await server.receive_some()
        await server.aclose()

    async with nursery.open_nursery() as n:
        n.start_soon(server_side)
        with pytest.raises(BrokenResourceError) as info:
            await client.send_all(b"secret")
        assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
        # Later operations say the same, without retrying anything.
        with pytest.raises(BrokenResourceError):
            await client.do_handshake()
        await client.aclose()
    with pytest.raises(ClosedResourceError):
        await client.transport_stream.send_all(b"x")
    with pytest.raises(ClosedResourceError):
        await server.transport_stream.send_all(b"x")


async def test_setting_the_context_reaches_the_ssl_object() -> None:
    client, server = ssl_pair()
    with pytest.raises(AttributeError):
        client.server_side = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        client.server_hostname = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        client.no_such_attribute  # type: ignore[attr-defined]  # noqa: B018
    assert "transport_stream" in dir(client) and "getpeercert" in dir(client)
    untrusting = ssl.create_default_context()
    client.context = untrusting
    assert client.context is untrusting

    async def server_side() -> None:
        with pytest.raises(BrokenResourceError):
            await server.do_handshake()

    async with nursery.open_nursery() as n:
        n.start_soon(server_side)
        with pytest.raises(BrokenResourceError):
            await client.do_handshake()
        await client.aclose()


# -- cancellation ---------------------------------------------------------------------------------


async def test_peer_stalling_mid_handshake_can_be_cancelled(autojump_clock: MockClock) -> None:
    client_transport, server_transport = memory_stream_pair()
    client = SSLStream(client_transport, CLIENT_CTX, server_hostname=HOST)
    # The "server" reads the ClientHello and then says nothing, ever.
    with nursery.move_on_after(10) as scope:
        async with nursery.open_nursery() as n:
            n.start_soon(server_transport.receive_some)
            await client.do_handshake()
    assert scope.cancelled_caught
    # aclose does not resume a handshake that was given up on: it closes at once.
    await client.aclose()
    with pytest.raises(ClosedResourceError):
        await client_transport.send_all(b"x")
    with pytest.raises(ClosedResourceError):
        await client.send_all(b"x")
    await server_transport.aclose()


async def test_handshake_cancelled_while_waiting_for_the_peer_resumes() -> None:
    client, server = ssl_pair()
    with CancelScope() as scope:

        async def cancel_when_blocked() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_blocked)
            await client.receive_some()  # blocked in the handshake: the server is silent
    assert scope.cancelled_caught
    # Nothing was lost: with the server there now, the handshake goes on.
    await both(client.do_handshake, server.do_handshake)
    await client.send_all(b"after all")
    assert await server.receive_some() == b"after all"


async def test_cancelled_before_the_handshake_starts_leaves_the_stream_usable() -> None:
    client, server = ssl_pair()
    with CancelScope() as scope:
        scope.cancel()
        await client.do_handshake()
    assert scope.cancelled_caught
    await both(client.do_handshake, server.do_handshake)


@pytest.mark.parametrize("side", ["client", "server"])
async def test_cancellation_at_each_step_of_the_handshake(side: str) -> None:
    # Cancel the handshake of one side just before its k-th transport operation, for
    # every k until the handshake completes before the k-th. Cancelled while sending,
    # the stream is broken; cancelled while waiting to receive, the handshake resumes.
    # Either way closing it closes the transport and nothing is left running.
    outcomes = set()
    k = 1
    while True:
        client_transport, server_transport = memory_stream_pair()
        scope = CancelScope()
        ops = 0

        def before_op() -> None:
            nonlocal ops
            ops += 1
            if ops == k:
                scope.cancel()

        if side == "client":
            client_transport = OpCountingStream(client_transport, before_op)
        else:
            server_transport = OpCountingStream(server_transport, before_op)
        client = SSLStream(client_transport, CLIENT_CTX, server_hostname=HOST)
        server = SSLStream(server_transport, SERVER_CTX, server_side=True)
        victim, peer = (client, server) if side == "client" else (server, client)

        async def peer_side() -> None:
            try:
                await peer.do_handshake()
            except BrokenResourceError:
                pass
            await peer.aclose()

        async with nursery.open_nursery() as n:
            n.start_soon(peer_side)
            with scope:
                await victim.do_handshake()
            if not scope.cancelled_caught:
                await victim.aclose()
                break
            try:
                await victim.do_handshake()
            except BrokenResourceError:
                outcomes.add("broken")
            else:
                outcomes.add("resumed")
            await victim.aclose()
        assert victim.transport_stream is not None
        inner = victim.transport_stream.inner
        with pytest.raises(ClosedResourceError):
            await inner.send_all(b"x")
        k += 1
    assert k >= 3  # each side sends and receives at least once
    assert outcomes == {"broken", "resumed"}


async def test_cancelled_send_all_breaks_the_stream() -> None:
    client, server = ssl_pair(lockstep=True)
    await both(client.do_handshake, server.do_handshake)
    with CancelScope() as scope:

        async def cancel_when_blocked() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_blocked)
            await client.send_all(b"x" * 100)  # nobody reads: blocks, then cancelled
    assert scope.cancelled_caught
    with pytest.raises(BrokenResourceError):
        await client.send_all(b"y")
    await client.aclose()
    await server.aclose()


async def test_send_all_cancelled_before_it_starts_leaves_the_stream_usable() -> None:
    client, server = await handshaken_pair()
    with CancelScope() as scope:
        scope.cancel()
        await client.send_all(b"never")
    assert scope.cancelled_caught
    await client.send_all(b"sent")
    assert await server.receive_some() == b"sent"


async def test_cancelled_receive_some_loses_nothing() -> None:
    client, server = await handshaken_pair()
    with CancelScope() as scope:

        async def cancel_when_blocked() -> None:
            await wait_all_tasks_blocked()
            scope.cancel()

        async with nursery.open_nursery() as n:
            n.start_soon(cancel_when_blocked)
            await server.receive_some()
    assert scope.cancelled_caught
    await client.send_all(b"still here")
    assert await server.receive_some() == b"still here"


async def test_transport_errors_during_the_handshake_propagate_then_broken() -> None:
    client, server = ssl_pair()

    async def failing_hook() -> None:
        raise KeyError("transport trouble")

    client.transport_stream.send_stream.send_all_hook = failing_hook
    with pytest.raises(KeyError):
        await client.do_handshake()
    with pytest.raises(BrokenResourceError):
        await client.do_handshake()
    await client.aclose()
    # The server's aclose tries the handshake it never did, with a peer that is gone.
    with pytest.raises(BrokenResourceError):
        await server.aclose()
    with pytest.raises(ClosedResourceError):
        await server.transport_stream.send_all(b"x")


# -- one task per direction ----------------------------------------------------------


async def test_busy_resource_errors() -> None:
    client, server = ssl_pair(lockstep=True)  # the server never answers: all block

    async def expect_busy(
        first: Callable[[], Awaitable[object]], second: Callable[[], Awaitable[object]]
    ) -> None:
        with CancelScope() as scope:
            async with nursery.open_nursery() as n:
                n.start_soon(first)
                await wait_all_tasks_blocked()
                with pytest.raises(BusyResourceError, match="another task"):
                    await second()
                scope.cancel()

    await expect_busy(lambda: client.send_all(b"a"), lambda: client.send_all(b"b"))
    client, server = ssl_pair(lockstep=True)
    await expect_busy(lambda: client.send_all(b"a"), client.wait_send_all_might_not_block)
    client, server = ssl_pair(lockstep=True)
    await expect_busy(client.receive_some, client.receive_some)
    client, server = ssl_pair(lockstep=True)
    await expect_busy(client.receive_some, client.unwrap)


async def test_wait_send_all_might_not_block_defers_to_the_transport() -> None:
    calls = []

    class Recorder:
        async def wait_send_all_might_not_block(self) -> None:
            calls.append("waited")

    stream = SSLStream(Recorder(), CLIENT_CTX, server_hostname=HOST)  # type: ignore[type-var]
    with assert_checkpoints():
        await stream.wait_send_all_might_not_block()
    assert calls == ["waited"]


# -- SSLListener ---------------------------------------------------------------------


class FakeListener(Listener[Stream]):
    def __init__(self, streams: list[Stream]) -> None:
        self.streams = streams
        self.closed = False

    async def accept(self) -> Stream:
        await nursery.lowlevel.checkpoint()
        return self.streams.pop(0)

    async def aclose(self) -> None:
        self.closed = True
        await nursery.lowlevel.checkpoint()


@pytest.mark.parametrize("https_compatible", [False, True])
async def test_ssl_listener(https_compatible: bool) -> None:
    client_transport, server_transport = memory_stream_pair()
    transport_listener = FakeListener([server_transport])
    listener = SSLListener(transport_listener, SERVER_CTX, https_compatible=https_compatible)
    assert listener.transport_listener is transport_listener
    server = await listener.accept()
    assert isinstance(server, SSLStream)
    assert server.transport_stream is server_transport
    assert server.server_side
    assert server._https_compatible is https_compatible
    client = SSLStream(
        client_transport, CLIENT_CTX, server_hostname=HOST, https_compatible=https_compatible
    )

    async def client_side() -> None:
        await client.send_all(b"hello")
        await client.aclose()

    async def server_side() -> None:
        assert await server.receive_some() == b"hello"
        assert await server.receive_some() == b""
        await server.aclose()

    await both(client_side, server_side)
    await listener.aclose()
    assert transport_listener.closed


def test_classes_are_final() -> None:
    with pytest.raises(TypeError):

        class MyStream(SSLStream):  # type: ignore[misc]
            pass

    with pytest.raises(TypeError):

        class MyListener(SSLListener):  # type: ignore[misc]
            pass


# -- the stream contract ----------------------------------------------------------------


@pytest.mark.parametrize("https_compatible", [False, True])
@VERSIONS
async def test_ssl_stream_passes_the_two_way_stream_checks(
    https_compatible: bool, client_ctx: ssl.SSLContext
) -> None:
    mode = {"https_compatible": https_compatible}
    kwargs: dict[str, Any] = {
        "client_ctx": client_ctx,
        "client_kwargs": mode,
        "server_kwargs": mode,
    }

    async def stream_maker() -> tuple[Stream, Stream]:
        # Fresh pairs, as a user of the checker would make them: the handshake happens
        # inside the checks, on first use (or on a graceful close).
        return ssl_pair(**kwargs)

    async def clogged_stream_maker() -> tuple[Stream, Stream]:
        client, server = ssl_pair(lockstep=True, **kwargs)
        # Handshake first: otherwise a receive_some meant to unclog the other side
        # would itself start a handshake and block in it.
        await both(client.do_handshake, server.do_handshake)
        return client, server

    await check_two_way_stream(stream_maker, clogged_stream_maker)


async def test_tasks_waiting_for_a_failed_handshake_raise_too() -> None:
    client, server = ssl_pair(client_ctx=client_context(OTHER_CA))
    outcomes: list[str] = []

    async def handshake() -> None:
        try:
            await client.do_handshake()
        except BrokenResourceError:
            outcomes.append("broken")

    async def server_side() -> None:
        with pytest.raises(BrokenResourceError):
            await server.do_handshake()
        await server.aclose()

    # One task does the handshake, the other two wait for it: all three learn it failed.
    async with nursery.open_nursery() as n:
        n.start_soon(server_side)
        await both(handshake, handshake, handshake)
        await client.aclose()  # lets the server see the end of the handshake
    assert outcomes == ["broken"] * 3


async def test_a_task_that_waited_for_the_receive_lock_retries_before_receiving() -> None:
    # Two tasks needing bytes from the peer at once (in real life: a renegotiation,
    # where a send needs to receive while a receive_some is already receiving). The
    # second must not receive in turn once the first has fed the SSLObject: the peer
    # may have nothing more to say, and it would wait forever.
    client, server = await handshaken_pair()
    receives = 0
    inner = client.transport_stream.receive_stream
    original_hook = inner.receive_some_hook

    async def counting_hook() -> None:
        nonlocal receives
        receives += 1
        if original_hook is not None:
            await original_hook()

    inner.receive_some_hook = counting_hook
    async with nursery.open_nursery() as n:
        n.start_soon(client._receive_from_transport)
        n.start_soon(client._receive_from_transport)
        await wait_all_tasks_blocked()
        await server.send_all(b"one record")
    assert receives == 1
    assert await client.receive_some() == b"one record"


async def test_session_information_after_the_handshake() -> None:
    client, server = await handshaken_pair()
    assert client.compression() is None
    assert server.shared_ciphers()
    assert client.get_channel_binding() is None or isinstance(client.get_channel_binding(), bytes)
    assert client.session is not None
    with pytest.raises(ValueError):
        client.session = client.session  # the SSLObject's rule: only before the handshake
    assert "client" in repr(client) and "server" in repr(server)


async def test_a_waiting_task_takes_over_a_handshake_whose_task_was_cancelled() -> None:
    client, server = ssl_pair()
    first = CancelScope()

    async def first_handshaker() -> None:
        with first:
            await client.do_handshake()
        assert first.cancelled_caught

    async with nursery.open_nursery() as n:
        n.start_soon(first_handshaker)
        await wait_all_tasks_blocked()  # it is waiting for the silent server
        n.start_soon(client.do_handshake)  # waits for the first one
        await wait_all_tasks_blocked()
        first.cancel()
        await wait_all_tasks_blocked()
        # The second task took over; the server answers it.
        n.start_soon(server.do_handshake)
    assert client.version() == server.version()
