"""nursery.socket: getaddrinfo / getnameinfo, IDNA, the custom resolver hook, and the
address resolution of connect / bind / sendto."""

from __future__ import annotations

import socket as stdlib_socket
import threading
from typing import Any

import pytest
from net_helpers import needs_ipv6

import nursery
import nursery.lowlevel
import nursery.socket as nsocket
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked


class RecordingResolver(nursery.abc.HostnameResolver):
    """Answers every name with one fixed address, and remembers the questions."""

    def __init__(self, answer: str = "127.0.0.1") -> None:
        self.answer = answer
        self.queries: list[tuple[Any, ...]] = []

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        self.queries.append((host, port, family, type, proto, flags))
        await nursery.lowlevel.checkpoint()
        if family == nsocket.AF_INET6:
            return [
                (
                    family,
                    type,
                    proto,
                    "",
                    (self.answer, int(port) if isinstance(port, int) else 0, 0, 0),
                )
            ]
        return [
            (
                nsocket.AF_INET,
                type,
                proto,
                "",
                (self.answer, int(port) if isinstance(port, int) else 0),
            )
        ]

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        self.queries.append((sockaddr, flags))
        await nursery.lowlevel.checkpoint()
        return ("resolved.example", "service")


async def test_getaddrinfo_numeric_is_answered_without_a_thread_or_resolver() -> None:
    resolver = RecordingResolver()
    nsocket.set_custom_hostname_resolver(resolver)
    with assert_checkpoints():
        result = await nsocket.getaddrinfo("127.0.0.1", 80, type=nsocket.SOCK_STREAM)
    assert result == stdlib_socket.getaddrinfo("127.0.0.1", 80, type=stdlib_socket.SOCK_STREAM)
    assert await nsocket.getaddrinfo(b"::1", "443", nsocket.AF_INET6)
    assert await nsocket.getaddrinfo(None, 0, flags=nsocket.AI_PASSIVE)
    assert resolver.queries == []


async def test_getaddrinfo_in_a_cancelled_scope() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await nsocket.getaddrinfo("127.0.0.1", 80)


async def test_getaddrinfo_real_lookup_in_a_thread() -> None:
    with assert_checkpoints():
        result = await nsocket.getaddrinfo("localhost", 80, nsocket.AF_INET)
    assert ("127.0.0.1", 80) in [entry[4] for entry in result]
    with pytest.raises(nsocket.gaierror):
        await nsocket.getaddrinfo("127.0.0.1", 80, family=12345)  # EAI_FAMILY: no thread
    with pytest.raises(nsocket.gaierror):
        await nsocket.getaddrinfo("no-such-host.invalid", 80)


async def test_getaddrinfo_thread_is_abandoned_on_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    entered = threading.Event()
    real = stdlib_socket.getaddrinfo

    def slow_getaddrinfo(host: Any, port: Any, *args: Any) -> Any:
        if args[-1] & stdlib_socket.AI_NUMERICHOST:
            return real(host, port, *args)
        entered.set()
        release.wait(10)
        return real("127.0.0.1", port)

    monkeypatch.setattr(stdlib_socket, "getaddrinfo", slow_getaddrinfo)
    try:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:

                async def look_up() -> None:
                    await nsocket.getaddrinfo("slow.example", 80)

                n.start_soon(look_up)
                await nursery.to_thread.run_sync(entered.wait, 10)
                scope.cancel()
        assert scope.cancelled_caught
    finally:
        release.set()


async def test_custom_resolver_gets_idna_2008_bytes() -> None:
    resolver = RecordingResolver()
    assert nsocket.set_custom_hostname_resolver(resolver) is None
    await nsocket.getaddrinfo("faß.de", 80)
    await nsocket.getaddrinfo("EXAMPLE.com", "http", nsocket.AF_INET, 0, 0, 0)
    await nsocket.getaddrinfo(b"already-bytes", 1)
    hosts = [query[0] for query in resolver.queries]
    # IDNA 2008 keeps the sharp s (IDNA 2003, the stdlib codec, would give "fass.de").
    assert hosts == [b"xn--fa-hia.de", b"EXAMPLE.com", b"already-bytes"]
    assert resolver.queries[1][1:] == ("http", nsocket.AF_INET, 0, 0, 0)
    assert nsocket.set_custom_hostname_resolver(None) is resolver


def test_encode_hostname() -> None:
    assert nursery.lowlevel.encode_hostname("example.com") == b"example.com"
    assert nursery.lowlevel.encode_hostname("faß.de") == b"xn--fa-hia.de"
    assert nursery.lowlevel.encode_hostname("Bücher.DE") == b"xn--bcher-kva.de"


async def test_getnameinfo() -> None:
    with assert_checkpoints():
        host, service = await nsocket.getnameinfo(
            ("127.0.0.1", 80), nsocket.NI_NUMERICHOST | nsocket.NI_NUMERICSERV
        )
    assert (host, service) == ("127.0.0.1", "80")
    resolver = RecordingResolver()
    nsocket.set_custom_hostname_resolver(resolver)
    assert await nsocket.getnameinfo(("127.0.0.1", 80), 0) == ("resolved.example", "service")
    assert resolver.queries == [(("127.0.0.1", 80), 0)]


async def test_getnameinfo_can_be_cancelled(autojump_clock: MockClock) -> None:
    class Stuck(RecordingResolver):
        async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
            await nursery.sleep_forever()
            raise AssertionError  # pragma: no cover

    nsocket.set_custom_hostname_resolver(Stuck())
    with nursery.move_on_after(1) as scope:
        await nsocket.getnameinfo(("127.0.0.1", 80), 0)
    assert scope.cancelled_caught


async def test_connect_and_sendto_go_through_the_resolver() -> None:
    resolver = RecordingResolver()
    nsocket.set_custom_hostname_resolver(resolver)
    with nsocket.socket() as listener:
        await listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with nsocket.socket() as client:
            await client.connect(("my-server.test", port))
            assert client.getpeername() == ("127.0.0.1", port)
        (await listener.accept())[0].close()
    assert resolver.queries[0][:2] == (b"my-server.test", port)
    # connect passes no AI_PASSIVE; bind does.
    assert not resolver.queries[0][5] & nsocket.AI_PASSIVE
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as udp:
        await udp.bind(("my-host.test", 0))
        assert resolver.queries[-1][5] & nsocket.AI_PASSIVE
        await udp.sendto(b"x", ("peer.test", 9))
        assert resolver.queries[-1][:2] == (b"peer.test", 9)


@needs_ipv6
async def test_ipv6_resolution_keeps_flowinfo_and_scope_id_and_maps_v4() -> None:
    resolver = RecordingResolver(answer="::1")
    nsocket.set_custom_hostname_resolver(resolver)
    with nsocket.socket(nsocket.AF_INET6, nsocket.SOCK_DGRAM) as sock:
        await sock.bind(("six.test", 0, 0, 0))
        assert resolver.queries[-1][2] == nsocket.AF_INET6
        # A dual-stack socket asks for v4-mapped answers; a v6-only one does not.
        sock2 = nsocket.socket(nsocket.AF_INET6, nsocket.SOCK_DGRAM)
        with sock2:
            sock2.setsockopt(nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY, False)
            await sock2.sendto(b"x", ("six.test", sock.getsockname()[1], 7))
            assert resolver.queries[-1][5] & nsocket.AI_V4MAPPED
            sock2.close()
        sock3 = nsocket.socket(nsocket.AF_INET6, nsocket.SOCK_DGRAM)
        with sock3:
            sock3.setsockopt(nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY, True)
            await sock3.sendto(b"x", ("six.test", sock.getsockname()[1]))
            assert not resolver.queries[-1][5] & nsocket.AI_V4MAPPED


async def test_resolve_keeps_ipv6_extras() -> None:
    # The private resolver, checked directly: the caller's flowinfo and scope_id replace
    # whatever getaddrinfo returned.
    from nursery._socket._resolve import resolve_address

    resolver = RecordingResolver(answer="fe80::1")
    nsocket.set_custom_hostname_resolver(resolver)
    resolved = await resolve_address(
        ("link.test", 80, 3, 2),
        nsocket.AF_INET6,
        nsocket.SOCK_STREAM,
        0,
        ipv6_v6only=True,
        local=False,
    )
    assert resolved == ("fe80::1", 80, 3, 2)
    resolved = await resolve_address(
        ("link.test", 80, 3), nsocket.AF_INET6, 0, 0, ipv6_v6only=True, local=False
    )
    assert resolved == ("fe80::1", 80, 3, 0)
    # Other families pass through untouched; numeric ones without a lookup.
    assert await resolve_address(
        ("x", 1), nsocket.AF_PACKET, 0, 0, ipv6_v6only=False, local=False
    ) == ("x", 1)
    count = len(resolver.queries)
    assert await resolve_address(
        ("10.0.0.1", 5), nsocket.AF_INET, 0, 0, ipv6_v6only=False, local=False
    ) == ("10.0.0.1", 5)
    assert len(resolver.queries) == count


async def test_resolver_hook_is_per_run() -> None:
    # Each test is its own run: nothing set by another test is visible here.
    assert nsocket.set_custom_hostname_resolver(None) is None
    assert nsocket.set_custom_socket_factory(None) is None
    await wait_all_tasks_blocked()


async def test_a_numeric_lookup_that_fails_is_still_a_checkpoint() -> None:
    with assert_checkpoints(), pytest.raises(nsocket.gaierror):
        await nsocket.getaddrinfo("::1", "12345", type=-1)


async def test_getprotobyname_is_async_and_agrees_with_the_stdlib() -> None:
    import socket as stdlib_socket

    import nursery.socket

    assert await nursery.socket.getprotobyname("tcp") == stdlib_socket.getprotobyname("tcp")
    with pytest.raises(OSError):
        await nursery.socket.getprotobyname("no-such-protocol")
