"""open_tcp_stream: Happy Eyeballs on a fake network in virtual time, argument checks,
cancellation at every checkpoint, and real connections over loopback."""

from __future__ import annotations

import errno
import math
import socket as stdlib_socket
import sys

import pytest
from net_fakes import HOST, FakeNetwork, FakeSocket

import nursery
import nursery.socket as nsocket
from nursery import open_tcp_stream
from nursery.testing import MockClock, assert_checkpoints


async def connect(
    targets: list[tuple[str, float, str]],
    *,
    ipv4: bool = True,
    ipv6: bool = True,
    **kwargs: object,
) -> tuple[FakeSocket, FakeNetwork]:
    net = FakeNetwork(targets, ipv4=ipv4, ipv6=ipv6)
    net.install()
    stream = await open_tcp_stream(HOST, 80, **kwargs)  # type: ignore[arg-type]
    assert isinstance(stream.socket, FakeSocket)
    # Only the winner is still open.
    assert net.open_sockets() == [stream.socket]
    assert stream.socket.succeeded
    return stream.socket, net


async def connect_fails(
    targets: list[tuple[str, float, str]], **kwargs: object
) -> tuple[OSError, FakeNetwork]:
    net = FakeNetwork(targets)
    net.install()
    with pytest.raises(OSError) as info:
        await open_tcp_stream(HOST, 80, **kwargs)  # type: ignore[arg-type]
    assert net.open_sockets() == []
    return info.value, net


# -- who wins, and when --------------------------------------------------------------------


async def test_one_address(autojump_clock: MockClock) -> None:
    sock, net = await connect([("1.2.3.4", 0.123, "success")])
    assert sock.connected_to == "1.2.3.4"
    assert nursery.current_time() == 0.123
    assert net.connect_times == {"1.2.3.4": 0}
    # resolved as a stream service
    assert net.lookups[0][3] == stdlib_socket.SOCK_STREAM


async def test_ipv6_address(autojump_clock: MockClock) -> None:
    sock, _ = await connect([("::1", 0.5, "success")])
    assert sock.family == stdlib_socket.AF_INET6


async def test_next_attempt_after_the_delay(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [("1.1.1.1", 1, "success"), ("2.2.2.2", 1, "success"), ("3.3.3.3", 0.2, "success")]
    )
    assert sock.connected_to == "3.3.3.3"
    assert nursery.current_time() == 0.25 + 0.25 + 0.2
    assert net.connect_times == {"1.1.1.1": 0, "2.2.2.2": 0.25, "3.3.3.3": 0.5}
    # the losers were cancelled mid-connect and closed
    assert all(s.closed for s in net.sockets if s is not sock)


async def test_custom_delay(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [("1.1.1.1", 10, "success"), ("2.2.2.2", 0.5, "success")], happy_eyeballs_delay=3
    )
    assert sock.connected_to == "2.2.2.2"
    assert net.connect_times == {"1.1.1.1": 0, "2.2.2.2": 3}
    assert nursery.current_time() == 3.5


async def test_none_delay_tries_one_at_a_time(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [("1.1.1.1", 10, "error"), ("2.2.2.2", 20, "error"), ("3.3.3.3", 1, "success")],
        happy_eyeballs_delay=None,
    )
    assert sock.connected_to == "3.3.3.3"
    assert net.connect_times == {"1.1.1.1": 0, "2.2.2.2": 10, "3.3.3.3": 30}


async def test_zero_delay_tries_all_at_once(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [("1.1.1.1", 3, "success"), ("2.2.2.2", 2, "success"), ("3.3.3.3", 1, "success")],
        happy_eyeballs_delay=0,
    )
    assert sock.connected_to == "3.3.3.3"
    assert net.connect_times == {"1.1.1.1": 0, "2.2.2.2": 0, "3.3.3.3": 0}


async def test_families_are_interleaved(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [
            ("1.1.1.1", 10, "error"),
            ("2.2.2.2", 1, "success"),  # would win if it were tried second...
            ("::3", 0.5, "success"),  # ...but the other family goes second
        ],
        happy_eyeballs_delay=1,
    )
    assert sock.connected_to == "::3"
    assert net.connect_times == {"1.1.1.1": 0, "::3": 1}
    assert nursery.current_time() == 1.5


async def test_rfc_8305_order_of_many_addresses(autojump_clock: MockClock) -> None:
    _, net = await connect_fails(
        [
            ("::1", 1, "error"),
            ("::2", 1, "error"),
            ("::3", 1, "error"),
            ("4.4.4.4", 1, "error"),
            ("5.5.5.5", 1, "error"),
        ]
    )
    assert list(net.connect_times) == ["::1", "4.4.4.4", "::2", "5.5.5.5", "::3"]


async def test_a_failure_starts_the_next_attempt_at_once(autojump_clock: MockClock) -> None:
    exc, net = await connect_fails(
        [
            ("1.1.1.1", 0.1, "error"),
            ("2.2.2.2", 0.2, "error"),
            ("3.3.3.3", 10, "error"),
            ("4.4.4.4", 0.25, "error"),
        ]
    )
    assert net.connect_times == {
        "1.1.1.1": 0,
        "2.2.2.2": 0.1,
        "3.3.3.3": 0.1 + 0.2,
        "4.4.4.4": 0.1 + 0.2 + 0.25,
    }
    assert nursery.current_time() == 0.1 + 0.2 + 10


async def test_winner_among_failures(autojump_clock: MockClock) -> None:
    sock, net = await connect(
        [
            ("1.1.1.1", 10, "error"),
            ("2.2.2.2", 10, "success"),
            ("3.3.3.3", 9, "success"),
            ("4.4.4.4", 8, "success"),
            ("5.5.5.5", 0.5, "error"),
        ],
        happy_eyeballs_delay=1,
    )
    assert sock.connected_to in {"2.2.2.2", "3.3.3.3", "4.4.4.4"}
    assert net.connect_times == {
        "1.1.1.1": 0,
        "2.2.2.2": 1,
        "3.3.3.3": 2,
        "4.4.4.4": 3,
        "5.5.5.5": 4,
    }
    assert nursery.current_time() == 11


async def test_unsupported_family_counts_as_a_failed_attempt(autojump_clock: MockClock) -> None:
    # IPv4 sockets cannot even be created: those attempts fail at once.
    sock, net = await connect(
        [("::1", 10, "success"), ("2.2.2.2", 0, "success"), ("::3", 0.1, "success")],
        ipv4=False,
        happy_eyeballs_delay=1,
    )
    assert sock.connected_to == "::3"
    assert net.connect_times == {"::1": 0, "::3": 1}
    assert nursery.current_time() == 1.1


# -- failures ---------------------------------------------------------------------------------


async def test_all_attempts_fail(autojump_clock: MockClock) -> None:
    exc, _ = await connect_fails(
        [("1.1.1.1", 0.1, "error"), ("::2", 0.2, "error"), ("3.3.3.3", 0.3, "error")]
    )
    # The message is Trio's, exactly: programs match on it.
    assert str(exc) == f"all attempts to connect to {HOST}:80 failed"
    assert not getattr(exc, "__notes__", None)
    # and the errors themselves are attached, as in Trio
    group = exc.__cause__
    assert isinstance(group, ExceptionGroup)
    assert len(group.exceptions) == 3
    assert all(isinstance(e, ConnectionRefusedError) for e in group.exceptions)
    # Each one names its address (the fake's messages do it themselves).
    assert [str(e) for e in group.exceptions] == [
        "[Errno 111] 1.1.1.1 refused the connection",
        "[Errno 111] ::2 refused the connection",
        "[Errno 111] 3.3.3.3 refused the connection",
    ]


async def test_nothing_resolved(autojump_clock: MockClock) -> None:
    exc, net = await connect_fails([])
    assert "no results found for hostname lookup" in str(exc)
    assert net.sockets == []


async def test_resolver_error_propagates() -> None:
    class Failing(FakeNetwork):
        async def getaddrinfo(self, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            raise stdlib_socket.gaierror(stdlib_socket.EAI_NONAME, "no such host")

    Failing([]).install()
    with pytest.raises(stdlib_socket.gaierror, match="no such host"):
        await open_tcp_stream(HOST, 80)


async def test_a_winner_that_is_not_a_nursery_socket_is_closed(autojump_clock: MockClock) -> None:
    class Impostor:
        """Connects fine, but is no nursery.socket.SocketType."""

        def __init__(self) -> None:
            self.closed = False

        async def connect(self, address: object) -> None:
            await nursery.lowlevel.checkpoint()

        def close(self) -> None:
            self.closed = True

    impostors: list[Impostor] = []

    class Factory(FakeNetwork):
        def socket(self, *args: object, **kwargs: object) -> nsocket.SocketType:
            impostors.append(Impostor())
            return impostors[-1]  # type: ignore[return-value]

    Factory([("1.1.1.1", 0, "success")]).install()
    with pytest.raises(TypeError, match="SocketStream"):
        await open_tcp_stream(HOST, 80)
    assert len(impostors) == 1 and impostors[0].closed


# -- local_address ----------------------------------------------------------------------------


async def test_local_address_binds_first(autojump_clock: MockClock) -> None:
    sock, _ = await connect([("1.1.1.1", 0.1, "success")], local_address="10.0.0.1")
    assert sock.bound_to == ("10.0.0.1", 0)
    if hasattr(nsocket, "IP_BIND_ADDRESS_NO_PORT"):
        assert sock.options[(nsocket.IPPROTO_IP, nsocket.IP_BIND_ADDRESS_NO_PORT)] == 1


async def test_local_address_of_the_wrong_family(autojump_clock: MockClock) -> None:
    exc, net = await connect_fails([("::1", 0.1, "success")], local_address="10.0.0.1")
    group = exc.__cause__
    assert isinstance(group, ExceptionGroup)
    assert "local_address='10.0.0.1' is incompatible with remote address" in str(
        group.exceptions[0]
    )
    assert net.connect_times == {}  # it never got as far as connecting


async def test_local_address_picks_a_family(autojump_clock: MockClock) -> None:
    sock, _ = await connect(
        [("::1", 0.1, "success"), ("2.2.2.2", 0.5, "success")], local_address="0.0.0.0"
    )
    assert sock.connected_to == "2.2.2.2"


# -- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", [None, 1, ("1.2.3.4", 80), bytearray(b"host")])
async def test_bad_host(host: object) -> None:
    # A TypeError, and a ValueError as Trio raises here.
    with pytest.raises(TypeError, match="host must be str or bytes"):
        await open_tcp_stream(host, 80)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^host must be str or bytes, not "):
        await open_tcp_stream(host, 80)  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [None, "80", b"80", 80.0, True])
async def test_bad_port(port: object) -> None:
    with pytest.raises(TypeError, match="port must be int"):
        await open_tcp_stream("127.0.0.1", port)  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [-1, 65536, 70000])
async def test_port_out_of_range(port: int) -> None:
    with pytest.raises(ValueError, match="port must be in range 0-65535"):
        await open_tcp_stream("127.0.0.1", port)


async def test_bad_delay_and_local_address() -> None:
    with pytest.raises(TypeError, match="happy_eyeballs_delay"):
        await open_tcp_stream("127.0.0.1", 80, happy_eyeballs_delay="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="happy_eyeballs_delay"):
        await open_tcp_stream("127.0.0.1", 80, happy_eyeballs_delay=-1)
    with pytest.raises(ValueError, match="happy_eyeballs_delay"):
        await open_tcp_stream("127.0.0.1", 80, happy_eyeballs_delay=math.nan)
    with pytest.raises(TypeError, match="local_address"):
        await open_tcp_stream("127.0.0.1", 80, local_address=1)  # type: ignore[arg-type]


async def test_bad_arguments_make_no_socket() -> None:
    net = FakeNetwork([("1.1.1.1", 0, "success")])
    net.install()
    with pytest.raises(TypeError):
        await open_tcp_stream(HOST, "http")  # type: ignore[arg-type]
    assert net.sockets == [] and net.lookups == []


# -- cancellation -----------------------------------------------------------------------------

SCENARIO = [
    ("1.1.1.1", 1, "error"),
    ("::2", 1, "success"),
    ("3.3.3.3", 0.6, "success"),
    ("::4", 0.1, "error"),
]
# Every moment something happens: lookup, each start, each failure, the win.
CANCEL_TIMES = [0, 0.1, 0.25, 0.35, 0.5, 0.6, 0.75, 0.85, 1, 1.1, 1.25]


@pytest.mark.parametrize("cancel_at", CANCEL_TIMES)
async def test_cancelled_at_any_moment_leaks_nothing(
    cancel_at: float, autojump_clock: MockClock
) -> None:
    tasks_before = nursery.lowlevel.current_statistics().tasks_living
    net = FakeNetwork(SCENARIO)
    net.install()
    stream = None
    with nursery.move_on_after(cancel_at) as scope:
        stream = await open_tcp_stream(HOST, 80)
    if scope.cancelled_caught:
        assert stream is None
        assert net.open_sockets() == []
        assert nursery.current_time() == cancel_at
    else:
        assert stream is not None
        assert net.open_sockets() == [stream.socket]
    assert nursery.lowlevel.current_statistics().tasks_living == tasks_before


async def test_cancelled_during_the_lookup(autojump_clock: MockClock) -> None:
    class SlowResolver(FakeNetwork):
        async def getaddrinfo(self, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            await nursery.sleep(10)
            raise AssertionError("not reached")

    net = SlowResolver(SCENARIO)
    net.install()
    with nursery.move_on_after(1) as scope:
        await open_tcp_stream(HOST, 80)
    assert scope.cancelled_caught
    assert net.sockets == []


async def test_cancelled_before_the_call(autojump_clock: MockClock) -> None:
    net = FakeNetwork(SCENARIO)
    net.install()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await open_tcp_stream(HOST, 80)
    assert scope.cancelled_caught
    assert net.sockets == []


async def test_is_a_checkpoint_even_for_a_numeric_host() -> None:
    listener = nsocket.socket()
    with listener:
        await listener.bind(("127.0.0.1", 0))
        listener.listen()
        with assert_checkpoints():
            stream = await open_tcp_stream(*listener.getsockname())
        await stream.aclose()


# -- real sockets over loopback -------------------------------------------------------------


async def _listener(family: int, address: str) -> nsocket.SocketType:
    sock = nsocket.socket(family)
    await sock.bind((address, 0))
    sock.listen()
    return sock


async def test_real_connection_ipv4() -> None:
    with await _listener(stdlib_socket.AF_INET, "127.0.0.1") as listener:
        host, port = listener.getsockname()
        async with await open_tcp_stream(host, port) as stream:
            server, _ = await listener.accept()
            with server:
                await stream.send_all(b"ping")
                assert await server.recv(10) == b"ping"
                assert stream.socket.getpeername() == (host, port)


async def test_real_connection_by_name_and_bytes() -> None:
    with await _listener(stdlib_socket.AF_INET, "127.0.0.1") as listener:
        port = listener.getsockname()[1]
        async with await open_tcp_stream(b"127.0.0.1", port) as stream:
            assert stream.socket.getpeername()[1] == port


@pytest.mark.skipif(not stdlib_socket.has_ipv6, reason="no IPv6")
async def test_real_connection_ipv6() -> None:
    try:
        listener = await _listener(stdlib_socket.AF_INET6, "::1")
    except OSError:
        pytest.skip("IPv6 loopback is not available")
    with listener:
        port = listener.getsockname()[1]
        async with await open_tcp_stream("::1", port) as stream:
            assert stream.socket.family == stdlib_socket.AF_INET6


async def test_real_connection_refused() -> None:
    with await _listener(stdlib_socket.AF_INET, "127.0.0.1") as listener:
        port = listener.getsockname()[1]
    # nothing listens there any more
    with pytest.raises(
        OSError, match=f"all attempts to connect to 127.0.0.1:{port} failed"
    ) as info:
        await open_tcp_stream("127.0.0.1", port)
    assert isinstance(info.value.__cause__, ExceptionGroup)
    assert info.value.__cause__.exceptions[0].errno == errno.ECONNREFUSED


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is Linux-only")
async def test_real_local_address() -> None:
    with await _listener(stdlib_socket.AF_INET, "127.0.0.1") as listener:
        async with await open_tcp_stream(
            *listener.getsockname(), local_address="127.0.0.2"
        ) as stream:
            assert stream.socket.getsockname()[0] == "127.0.0.2"
            if hasattr(nsocket, "IP_BIND_ADDRESS_NO_PORT"):
                assert stream.socket.getsockopt(nsocket.IPPROTO_IP, nsocket.IP_BIND_ADDRESS_NO_PORT)
            server, remote = await listener.accept()
            server.close()
            assert remote[0] == "127.0.0.2"
        with pytest.raises(
            OSError, match=r"^all attempts to connect to 127\.0\.0\.1:\d+ failed$"
        ) as info:
            await open_tcp_stream(*listener.getsockname(), local_address="::")
        group = info.value.__cause__
        assert isinstance(group, ExceptionGroup)
        assert "local_address='::' is incompatible" in str(group.exceptions[0])
