"""open_tcp_listeners: real listeners on loopback and the wildcard, and a fake socket
factory for the options, the backlog and the failure paths."""

from __future__ import annotations

import errno
import socket as stdlib_socket
from typing import Any

import pytest

import nursery
import nursery.socket as nsocket
from nursery import SocketListener, open_tcp_listeners, open_tcp_stream
from nursery.abc import HostnameResolver, SocketFactory


def can_bind_ipv6_loopback() -> bool:
    try:
        with stdlib_socket.socket(stdlib_socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


# -- real sockets -------------------------------------------------------------------------


async def test_loopback_listener_accepts() -> None:
    listeners = await open_tcp_listeners(0, host="127.0.0.1")
    assert len(listeners) == 1
    (listener,) = listeners
    async with listener:
        assert isinstance(listener, SocketListener)
        sock = listener.socket
        assert sock.family == stdlib_socket.AF_INET
        assert sock.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_REUSEADDR)
        assert sock.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_ACCEPTCONN)
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port != 0
        async with await open_tcp_stream(host, port) as client:
            async with await listener.accept() as server:
                await client.send_all(b"x")
                assert await server.receive_some(1) == b"x"


async def test_wildcard_gives_a_listener_per_family() -> None:
    listeners = await open_tcp_listeners(0)
    try:
        families = {listener.socket.family for listener in listeners}
        assert stdlib_socket.AF_INET in families
        for listener in listeners:
            assert listener.socket.getsockname()[0] in {"0.0.0.0", "::"}
            if listener.socket.family == stdlib_socket.AF_INET6:
                assert listener.socket.getsockopt(nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY)
    finally:
        for listener in listeners:
            await listener.aclose()


@pytest.mark.skipif(not can_bind_ipv6_loopback(), reason="no IPv6 loopback")
async def test_ipv6_loopback_listener() -> None:
    (listener,) = await open_tcp_listeners(0, host="::1")
    async with listener:
        port = listener.socket.getsockname()[1]
        async with await open_tcp_stream("::1", port):
            (await listener.accept()).socket.close()


async def test_port_in_use_is_an_error() -> None:
    (first,) = await open_tcp_listeners(0, host="127.0.0.1")
    async with first:
        port = first.socket.getsockname()[1]
        with pytest.raises(OSError) as info:
            await open_tcp_listeners(port, host="127.0.0.1")
        assert info.value.errno == errno.EADDRINUSE


async def test_bytes_host() -> None:
    (listener,) = await open_tcp_listeners(0, host=b"127.0.0.1")
    await listener.aclose()


# -- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("port", [None, "80", 80.0, True])
async def test_bad_port(port: object) -> None:
    with pytest.raises(TypeError, match="port must be an int"):
        await open_tcp_listeners(port)  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [-1, 65536, 70000])
async def test_port_out_of_range(port: int) -> None:
    # Without the check, 70000 would quietly listen on 70000 % 65536.
    with pytest.raises(ValueError, match="port must be in range 0-65535"):
        await open_tcp_listeners(port, host="127.0.0.1")


@pytest.mark.parametrize("backlog", ["1", 1.5, True])
async def test_bad_backlog(backlog: object) -> None:
    with pytest.raises(TypeError, match="backlog must be an int or None"):
        await open_tcp_listeners(0, host="127.0.0.1", backlog=backlog)  # type: ignore[arg-type]


async def test_bad_host() -> None:
    with pytest.raises(TypeError, match="host must be"):
        await open_tcp_listeners(0, host=1)  # type: ignore[arg-type]


async def test_cancelled_makes_no_listener() -> None:
    factory = FakeFactory([("10.0.0.1", 0)])
    factory.install()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await open_tcp_listeners(0, host=FAKE_HOST)
    assert scope.cancelled_caught
    assert factory.sockets == []


# -- a fake factory: options, backlog, failures ---------------------------------------------

FAKE_HOST = "listen.example"


class FakeListenSocket(nsocket.SocketType):
    def __init__(self, family: int, fail_bind: OSError | None) -> None:
        super().__init__()
        self._family = stdlib_socket.AddressFamily(family)
        self.fail_bind = fail_bind
        self.options: dict[tuple[int, int], Any] = {}
        self.bound_to: Any = None
        self.backlog: int | None = None
        self.closed = False

    @property
    def family(self) -> stdlib_socket.AddressFamily:
        return self._family

    @property
    def type(self) -> stdlib_socket.SocketKind:
        return stdlib_socket.SOCK_STREAM

    @property
    def proto(self) -> int:
        return 0

    def setsockopt(self, level: int, optname: int, value: Any, optlen: Any = None) -> None:
        self.options[(level, optname)] = value

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> Any:
        if (level, optname) == (nsocket.SOL_SOCKET, nsocket.SO_ACCEPTCONN):
            return int(self.backlog is not None)
        return self.options.get((level, optname), 0)

    async def bind(self, address: Any) -> None:
        await nursery.lowlevel.checkpoint()
        if self.fail_bind is not None:
            raise self.fail_bind
        self.bound_to = address

    def listen(self, backlog: int = 0) -> None:
        self.backlog = backlog

    def close(self) -> None:
        self.closed = True


class FakeFactory(HostnameResolver, SocketFactory):
    def __init__(
        self,
        addresses: list[tuple[str, int]],
        *,
        unsupported: set[int] = frozenset(),  # type: ignore[assignment]
        fail_bind: dict[str, OSError] | None = None,
    ) -> None:
        self.addresses = addresses
        self.unsupported = unsupported
        self.fail_bind = fail_bind or {}
        self.sockets: list[FakeListenSocket] = []
        self.flags: list[int] = []

    def install(self) -> None:
        nsocket.set_custom_hostname_resolver(self)
        nsocket.set_custom_socket_factory(self)

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        await nursery.lowlevel.checkpoint()
        self.flags.append(flags)
        assert type == stdlib_socket.SOCK_STREAM
        out: list[tuple[Any, ...]] = []
        for ip, _ in self.addresses:
            fam = stdlib_socket.AF_INET6 if ":" in ip else stdlib_socket.AF_INET
            out.append((fam, stdlib_socket.SOCK_STREAM, 6, "", (ip, port)))
        return out

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        raise NotImplementedError

    def socket(
        self,
        family: int = stdlib_socket.AF_INET,
        type: int = stdlib_socket.SOCK_STREAM,
        proto: int = 0,
    ) -> nsocket.SocketType:
        if family in self.unsupported:
            raise OSError(errno.EAFNOSUPPORT, "not supported (pretend)")
        ip = "::" if family == stdlib_socket.AF_INET6 else "0.0.0.0"
        sock = FakeListenSocket(family, self.fail_bind.get(ip))
        self.sockets.append(sock)
        return sock


async def test_options_and_passive_lookup() -> None:
    factory = FakeFactory([("::", 0), ("0.0.0.0", 0)])
    factory.install()
    listeners = await open_tcp_listeners(8080, host=FAKE_HOST)
    assert factory.flags == [nsocket.AI_PASSIVE]
    assert [listener.socket for listener in listeners] == factory.sockets
    v6, v4 = factory.sockets
    for sock in (v6, v4):
        assert sock.options[(nsocket.SOL_SOCKET, nsocket.SO_REUSEADDR)] == 1
    assert v6.options[(nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY)] == 1
    assert (nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY) not in v4.options
    assert v6.bound_to == ("::", 8080) and v4.bound_to == ("0.0.0.0", 8080)


@pytest.mark.parametrize(
    ("backlog", "expected"), [(None, 0xFFFF), (0, 0), (10, 10), (0xFFFF + 1, 0xFFFF)]
)
async def test_backlog(backlog: int | None, expected: int) -> None:
    factory = FakeFactory([("0.0.0.0", 0)])
    factory.install()
    await open_tcp_listeners(0, host=FAKE_HOST, backlog=backlog)
    assert factory.sockets[0].backlog == expected


async def test_one_unsupported_family_is_skipped() -> None:
    factory = FakeFactory([("::", 0), ("0.0.0.0", 0)], unsupported={stdlib_socket.AF_INET6})
    factory.install()
    listeners = await open_tcp_listeners(0, host=FAKE_HOST)
    assert [listener.socket.family for listener in listeners] == [stdlib_socket.AF_INET]


async def test_no_supported_family_is_an_error() -> None:
    factory = FakeFactory(
        [("::", 0), ("0.0.0.0", 0)],
        unsupported={stdlib_socket.AF_INET6, stdlib_socket.AF_INET},
    )
    factory.install()
    with pytest.raises(OSError, match="This system doesn't support any of the") as info:
        await open_tcp_listeners(0, host=FAKE_HOST)
    assert info.value.errno == errno.EAFNOSUPPORT
    assert isinstance(info.value.__cause__, ExceptionGroup)
    assert len(info.value.__cause__.exceptions) == 2


async def test_a_failed_bind_closes_everything() -> None:
    factory = FakeFactory(
        [("::", 0), ("0.0.0.0", 0)],
        fail_bind={"0.0.0.0": OSError(errno.EADDRINUSE, "in use (pretend)")},
    )
    factory.install()
    with pytest.raises(OSError, match="in use"):
        await open_tcp_listeners(0, host=FAKE_HOST)
    assert len(factory.sockets) == 2
    assert all(sock.closed for sock in factory.sockets)


async def test_other_socket_errors_propagate() -> None:
    class Failing(FakeFactory):
        def socket(self, *args: Any, **kwargs: Any) -> nsocket.SocketType:
            if self.sockets:
                raise OSError(errno.EMFILE, "too many open files (pretend)")
            return super().socket(*args, **kwargs)

    factory = Failing([("::", 0), ("0.0.0.0", 0)])
    factory.install()
    with pytest.raises(OSError, match="too many open files"):
        await open_tcp_listeners(0, host=FAKE_HOST)
    assert all(sock.closed for sock in factory.sockets)


async def test_cancelled_during_bind_closes_everything() -> None:
    factory = FakeFactory([("::", 0), ("0.0.0.0", 0)])
    factory.install()
    for checkpoints_before_cancel in range(4):
        factory.sockets.clear()
        with nursery.CancelScope() as scope:

            async def cancel_later(n: int = checkpoints_before_cancel) -> None:
                for _ in range(n):
                    await nursery.lowlevel.cancel_shielded_checkpoint()
                scope.cancel()

            async with nursery.open_nursery() as n:
                n.start_soon(cancel_later)
                listeners = await open_tcp_listeners(0, host=FAKE_HOST)
                for listener in listeners:
                    listener.socket.close()
        assert all(sock.closed for sock in factory.sockets)
