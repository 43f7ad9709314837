"""nursery.socket: the socket type, its factories, and the module's surface."""

from __future__ import annotations

import array
import errno
import os
import pickle
import socket as stdlib_socket
import tempfile
from pathlib import Path

import pytest
import trio.socket
from net_helpers import (
    HAS_IPV6,
    fill_send_buffer,
    needs_ipv6,
    socketpair,
    tcp_listener,
    tcp_pair,
    unused_tcp_port,
)

import nursery
import nursery.socket as nsocket
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked

# -- the module's surface ----------------------------------------------------------------


def test_every_trio_socket_name_is_here() -> None:
    missing = {name for name in dir(trio.socket) if not name.startswith("_")} - set(dir(nsocket))
    missing.discard("annotations")  # trio's `from __future__ import annotations`
    assert not missing


def test_constants_and_helpers_are_the_stdlib_ones() -> None:
    assert nsocket.AF_INET == stdlib_socket.AF_INET
    assert nsocket.SOCK_STREAM == stdlib_socket.SOCK_STREAM
    assert nsocket.TCP_NODELAY == stdlib_socket.TCP_NODELAY
    assert nsocket.SO_REUSEADDR == stdlib_socket.SO_REUSEADDR
    assert nsocket.IPPROTO_TCP == stdlib_socket.IPPROTO_TCP
    assert nsocket.SOL_SOCKET == stdlib_socket.SOL_SOCKET
    assert nsocket.gaierror is stdlib_socket.gaierror
    assert nsocket.herror is stdlib_socket.herror
    assert nsocket.timeout is stdlib_socket.timeout
    assert nsocket.inet_aton("127.0.0.1") == b"\x7f\x00\x00\x01"
    assert nsocket.htons(1) == stdlib_socket.htons(1)
    assert nsocket.gethostname() == stdlib_socket.gethostname()
    assert nsocket.if_nametoindex("lo") >= 1
    # Blocking lookups stay out, as in Trio.
    assert not hasattr(nsocket, "gethostbyname")
    assert not hasattr(nsocket, "create_connection")
    assert not hasattr(nsocket, "EAGAIN")
    assert nursery.socket is nsocket


# -- making sockets ----------------------------------------------------------------------


async def test_socket_defaults_and_properties() -> None:
    with nsocket.socket() as sock:
        assert isinstance(sock, nsocket.SocketType)
        assert sock.family == nsocket.AF_INET
        assert sock.type == nsocket.SOCK_STREAM
        assert sock.proto == 0
        assert not sock._sock.getblocking()  # type: ignore[attr-defined]
        assert "nursery.socket.socket" in repr(sock)
    assert sock.fileno() == -1
    with nsocket.socket(nsocket.AF_INET, nsocket.SOCK_DGRAM) as udp:
        assert udp.type == nsocket.SOCK_DGRAM


def test_sockets_can_be_made_and_closed_outside_a_run() -> None:
    sock = nsocket.socket()
    sock.close()
    a, b = nsocket.socketpair()
    a.close()
    b.close()


def test_socket_type_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="abstract"):
        nsocket.SocketType()


def test_from_stdlib_socket() -> None:
    raw = stdlib_socket.socket()
    sock = nsocket.from_stdlib_socket(raw)
    with sock:
        assert sock.fileno() == raw.fileno()
        assert not raw.getblocking()
    with pytest.raises(TypeError, match=r"socket\.socket"):
        nsocket.from_stdlib_socket(object())  # type: ignore[arg-type]

    class Sub(stdlib_socket.socket):
        pass

    with Sub() as sub, pytest.raises(TypeError):
        nsocket.from_stdlib_socket(sub)


def test_fileno_and_fromfd_read_the_real_family() -> None:
    with stdlib_socket.socket(stdlib_socket.AF_INET6, stdlib_socket.SOCK_DGRAM) as raw:
        # Wrong family and type given: they are read from the fd instead.
        copy = nsocket.fromfd(raw.fileno(), nsocket.AF_INET, nsocket.SOCK_STREAM)
        with copy:
            assert copy.family == nsocket.AF_INET6
            assert copy.type == nsocket.SOCK_DGRAM
            assert copy.fileno() != raw.fileno()
        dup = os.dup(raw.fileno())
        wrapped = nsocket.socket(fileno=dup)
        with wrapped:
            assert wrapped.family == nsocket.AF_INET6
            assert wrapped.type == nsocket.SOCK_DGRAM
        assert raw.fileno() != -1  # only the duplicate was closed


async def test_passthroughs() -> None:
    with socketpair() as (a, b):
        assert a.family == nsocket.AF_UNIX
        assert isinstance(a.getsockname(), str)
        assert isinstance(b.getpeername(), str)
        a.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_SNDBUF, 8192)
        assert a.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_SNDBUF) >= 8192
        assert len(a.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_SNDBUF, 4)) == 4
        with pytest.raises(TypeError, match="value"):
            a.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_SNDBUF, None)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="value"):
            a.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_SNDBUF, 1, 4)  # type: ignore[call-overload]
        a.set_inheritable(True)
        assert a.get_inheritable()
        a.set_inheritable(False)
        assert not a.get_inheritable()
        copy = a.dup()
        with copy:
            assert isinstance(copy, nsocket.SocketType)
            assert copy.fileno() != a.fileno()
        assert not a.did_shutdown_SHUT_WR
        a.shutdown(nsocket.SHUT_RD)
        assert not a.did_shutdown_SHUT_WR
        a.shutdown(nsocket.SHUT_WR)
        assert a.did_shutdown_SHUT_WR
        assert await b.recv(10) == b""
        with pytest.raises(TypeError, match="pickle"):
            pickle.dumps(a)


async def test_detach() -> None:
    sock = nsocket.socket()
    fd = sock.fileno()
    assert sock.detach() == fd
    assert sock.fileno() == -1
    os.close(fd)


async def test_setsockopt_with_optlen() -> None:
    with nsocket.socket() as sock:
        # value=None with an optlen passes a NULL pointer: for SO_BINDTODEVICE, that
        # removes any binding to a device.
        sock.setsockopt(nsocket.SOL_SOCKET, nsocket.SO_BINDTODEVICE, None, 0)
        assert sock.getsockopt(nsocket.SOL_SOCKET, nsocket.SO_BINDTODEVICE, 16) == b""


# -- I/O ---------------------------------------------------------------------------------


async def test_send_and_recv_are_checkpoints_even_when_they_do_not_block() -> None:
    with socketpair() as (a, b):
        with assert_checkpoints():
            assert await a.send(b"hello") == 5
        with assert_checkpoints():
            assert await b.recv(10) == b"hello"
        await a.send(b"again")
        buffer = bytearray(10)
        with assert_checkpoints():
            assert await b.recv_into(buffer) == 5
        assert buffer[:5] == b"again"
        await a.send(b"abc")
        assert await b.recv_into(buffer, 2) == 2
        assert await b.recv(10, nsocket.MSG_PEEK) == b"c"
        assert await b.recv(10) == b"c"


async def test_operations_in_a_cancelled_scope_do_nothing() -> None:
    with socketpair() as (a, b):
        await a.send(b"data")
        with nursery.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(nursery.Cancelled):
                await b.recv(10)
            with pytest.raises(nursery.Cancelled):
                await a.send(b"lost")
            with pytest.raises(nursery.Cancelled):
                await b.recv_into(bytearray(10))
        # Nothing was consumed and nothing sent.
        assert await b.recv(10) == b"data"
        assert not b.is_readable()


async def test_recv_waits_and_a_cancelled_wait_loses_nothing() -> None:
    with socketpair() as (a, b):
        received: list[bytes] = []

        async def receiver(scope_holder: list[nursery.CancelScope]) -> None:
            with nursery.CancelScope() as scope:
                scope_holder.append(scope)
                received.append(await b.recv(10))

        holder: list[nursery.CancelScope] = []
        async with nursery.open_nursery() as n:
            n.start_soon(receiver, holder)
            await wait_all_tasks_blocked()
            holder[0].cancel()
        assert received == []
        await a.send(b"kept")
        assert await b.recv(10) == b"kept"

        async with nursery.open_nursery() as n:
            n.start_soon(receiver, holder)
            await wait_all_tasks_blocked()
            await a.send(b"woken")
        assert received == [b"woken"]


async def test_send_waits_for_room() -> None:
    with socketpair() as (a, b):
        queued = await fill_send_buffer(a)
        sent: list[int] = []

        async def sender() -> None:
            sent.append(await a.send(b"more"))

        async with nursery.open_nursery() as n:
            n.start_soon(sender)
            await wait_all_tasks_blocked()
            assert sent == []
            got = 0
            while got < queued:
                got += len(await b.recv(1 << 20))
        assert sent == [4]
        assert await b.recv(10) == b"more"


async def test_wait_writable_and_is_readable() -> None:
    with socketpair() as (a, b):
        with assert_checkpoints():
            await a.wait_writable()
        assert not b.is_readable()
        await a.send(b"x")
        assert b.is_readable()
        await b.recv(1)
        assert not b.is_readable()
        a.shutdown(nsocket.SHUT_WR)
        assert b.is_readable()  # end of stream is readable too


async def test_close_wakes_waiters_with_closed_resource_error() -> None:
    with socketpair() as (a, b):
        errors: list[BaseException] = []

        async def waiter() -> None:
            try:
                await b.recv(10)
            except nursery.ClosedResourceError as exc:
                errors.append(exc)

        async with nursery.open_nursery() as n:
            n.start_soon(waiter)
            await wait_all_tasks_blocked()
            b.close()
        assert len(errors) == 1
        assert b.fileno() == -1
        b.close()  # closing twice does nothing
        with pytest.raises(OSError) as info:
            await b.recv(10)
        assert info.value.errno == errno.EBADF


async def test_close_wakes_a_blocked_sender() -> None:
    with socketpair() as (a, b):
        await fill_send_buffer(a)
        async with nursery.open_nursery() as n:

            async def sender() -> None:
                with pytest.raises(nursery.ClosedResourceError):
                    await a.send(b"x" * 65536)

            n.start_soon(sender)
            await wait_all_tasks_blocked()
            a.close()


async def test_two_tasks_waiting_to_recv_is_busy() -> None:
    with socketpair() as (a, b):
        async with nursery.open_nursery() as n:
            n.start_soon(b.recv, 10)
            await wait_all_tasks_blocked()
            with pytest.raises(nursery.BusyResourceError):
                await b.recv(10)
            await a.send(b"x")


async def test_udp_sendto_recvfrom_and_resolution() -> None:
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as server:
        with nsocket.socket(type=nsocket.SOCK_DGRAM) as client:
            await server.bind(("127.0.0.1", 0))
            await client.bind(("127.0.0.1", 0))
            address = server.getsockname()
            with assert_checkpoints():
                assert await client.sendto(b"one", address) == 3
            # The three-argument form, and a host name that needs resolving.
            assert await client.sendto(b"two", 0, ("localhost", address[1])) == 3
            with assert_checkpoints():
                data, sender = await server.recvfrom(10)
            assert (data, sender) == (b"one", client.getsockname())
            buffer = bytearray(10)
            count, sender = await server.recvfrom_into(buffer)
            assert (bytes(buffer[:count]), sender) == (b"two", client.getsockname())
            await client.sendto(b"three", address)
            assert await server.recvfrom_into(buffer, 2) == (2, client.getsockname())
            with pytest.raises(TypeError, match="sendto"):
                await client.sendto(b"x")  # type: ignore[call-overload]
            with pytest.raises(ValueError, match="AF_INET"):
                await client.sendto(b"x", "127.0.0.1")


async def test_recvmsg_sendmsg_with_ancillary_data() -> None:
    with socketpair() as (a, b):
        read_end, write_end = os.pipe()
        try:
            fds = array.array("i", [read_end])
            with assert_checkpoints():
                sent = await a.sendmsg(
                    [b"with ", b"fd"], [(nsocket.SOL_SOCKET, nsocket.SCM_RIGHTS, fds)]
                )
            assert sent == 7
            with assert_checkpoints():
                data, ancdata, flags, _ = await b.recvmsg(100, nsocket.CMSG_SPACE(4))
            assert data == b"with fd"
            assert ancdata[0][:2] == (nsocket.SOL_SOCKET, nsocket.SCM_RIGHTS)
            received_fd = array.array("i", ancdata[0][2])[0]
            os.close(received_fd)
            await a.sendmsg(iter([b"into"]))
            first, second = bytearray(2), bytearray(10)
            count, _, _, _ = await b.recvmsg_into(iter([first, second]))
            assert count == 4
            assert (first, second[:2]) == (b"in", b"to")
        finally:
            os.close(read_end)
            os.close(write_end)


async def test_sendmsg_to_an_address() -> None:
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as server:
        with nsocket.socket(type=nsocket.SOCK_DGRAM) as client:
            await server.bind(("127.0.0.1", 0))
            assert await client.sendmsg([b"hi"], [], 0, server.getsockname()) == 2
            assert (await server.recvfrom(10))[0] == b"hi"


# -- connect, bind, accept ---------------------------------------------------------------


async def test_tcp_connect_accept() -> None:
    with await tcp_listener() as listener:
        with nsocket.socket() as client:
            with assert_checkpoints():
                await client.connect(listener.getsockname())
            with assert_checkpoints():
                server, address = await listener.accept()
            with server:
                assert isinstance(server, nsocket.SocketType)
                assert address == client.getsockname()
                assert not server._sock.getblocking()  # type: ignore[attr-defined]
                await client.send(b"ping")
                assert await server.recv(10) == b"ping"


async def test_connect_by_host_name() -> None:
    with await tcp_listener() as listener:
        with nsocket.socket() as client:
            await client.connect(("localhost", listener.getsockname()[1]))
            assert client.getpeername() == listener.getsockname()
            (await listener.accept())[0].close()


async def test_accept_waits_and_can_be_cancelled(autojump_clock: MockClock) -> None:
    with await tcp_listener() as listener:
        with nursery.move_on_after(1) as scope:
            await listener.accept()
        assert scope.cancelled_caught
        # The listener still works.
        async with nursery.open_nursery() as n:
            client = nsocket.socket()
            n.start_soon(client.connect, listener.getsockname())
            server, _ = await listener.accept()
        server.close()
        client.close()


async def test_connect_refused() -> None:
    with nsocket.socket() as client:
        with pytest.raises(OSError) as info:
            await client.connect(("127.0.0.1", unused_tcp_port()))
        assert info.value.errno == errno.ECONNREFUSED


async def test_connect_in_a_cancelled_scope_closes_the_socket() -> None:
    with await tcp_listener() as listener:
        client = nsocket.socket()
        with nursery.CancelScope() as scope:
            scope.cancel()
            await client.connect(listener.getsockname())
        assert scope.cancelled_caught
        assert client.fileno() == -1


async def test_connect_cancelled_while_in_progress_closes_the_socket(
    autojump_clock: MockClock,
) -> None:
    # A listener with a full backlog drops new SYNs, so connect() stays in progress.
    with nsocket.socket() as listener:
        await listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        fillers: list[stdlib_socket.socket] = []
        try:
            client = nsocket.socket()
            for _ in range(8):
                filler = stdlib_socket.socket()
                filler.setblocking(False)
                fillers.append(filler)
                try:
                    filler.connect(address)
                except BlockingIOError:
                    pass
            with nursery.move_on_after(5) as scope:
                await client.connect(address)
            if not scope.cancelled_caught:  # pragma: no cover - a kernel that took it
                pytest.skip("the kernel accepted a connection beyond the backlog")
            assert client.fileno() == -1
        finally:
            for filler in fillers:
                filler.close()


async def test_connect_cancelled_during_resolution_closes_the_socket(
    autojump_clock: MockClock,
) -> None:
    class Stuck(nursery.abc.HostnameResolver):
        async def getaddrinfo(self, *args: object) -> list[tuple[object, ...]]:
            await nursery.sleep_forever()
            raise AssertionError  # pragma: no cover

        async def getnameinfo(self, *args: object) -> tuple[str, str]:
            raise NotImplementedError  # pragma: no cover

    nsocket.set_custom_hostname_resolver(Stuck())
    client = nsocket.socket()
    with nursery.move_on_after(1):
        await client.connect(("example.invalid", 80))
    assert client.fileno() == -1


async def test_unix_socket_bind_connect_and_abstract_names() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "sock"
        with nsocket.socket(nsocket.AF_UNIX) as listener:
            with assert_checkpoints():
                await listener.bind(path)  # a PathLike: bound in a worker thread
            listener.listen()
            with nsocket.socket(nsocket.AF_UNIX) as client:
                await client.connect(str(path))
                server, _ = await listener.accept()
                server.close()
    with nsocket.socket(nsocket.AF_UNIX) as abstract:
        name = b"\0nursery-test-" + str(os.getpid()).encode()
        with assert_checkpoints():
            await abstract.bind(name)
        assert abstract.getsockname() == name
    with nsocket.socket(nsocket.AF_UNIX) as bad, pytest.raises(TypeError, match="path"):
        await bad.bind(5)


async def test_bind_address_forms() -> None:
    with nsocket.socket() as sock:
        with assert_checkpoints():
            await sock.bind(("", 0))  # "" means every address, as in the stdlib
        assert sock.getsockname()[0] == "0.0.0.0"
    with nsocket.socket() as sock:
        await sock.bind(("localhost", 0))
        assert sock.getsockname()[0] == "127.0.0.1"
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as sock:
        await sock.bind(("<broadcast>", 0))
        assert sock.getsockname()[0] == "255.255.255.255"
    with nsocket.socket() as sock:
        for bad in ["127.0.0.1", ("127.0.0.1",), ("127.0.0.1", 0, 0)]:
            with pytest.raises(ValueError, match="AF_INET"):
                await sock.bind(bad)
    with nsocket.socket(nsocket.AF_INET6) as sock:
        with pytest.raises(ValueError, match="AF_INET6"):
            await sock.bind(("::1",))
    with nsocket.socket() as sock:
        with pytest.raises(OSError):
            await sock.bind(("127.0.0.1", "no-such-service"))


@needs_ipv6
async def test_ipv6_connect_and_bind() -> None:
    client, server = await tcp_pair(nsocket.AF_INET6)
    with client, server:
        assert client.family == nsocket.AF_INET6
        await client.send(b"six")
        assert await server.recv(10) == b"six"
    with nsocket.socket(nsocket.AF_INET6, nsocket.SOCK_DGRAM) as sock:
        # A service name instead of a port number goes through getaddrinfo.
        await sock.bind(("::1", "0", 0, 0))
        assert sock.getsockname()[0] == "::1"


async def test_ipv6_socket_reaches_ipv4_hosts_by_name() -> None:
    # On a dual-stack socket, names resolve to v4-mapped addresses (AI_V4MAPPED).
    if not HAS_IPV6:
        pytest.skip("no IPv6")
    with await tcp_listener() as listener:
        with nsocket.socket(nsocket.AF_INET6) as client:
            client.setsockopt(nsocket.IPPROTO_IPV6, nsocket.IPV6_V6ONLY, False)
            port = listener.getsockname()[1]
            await client.connect(("::ffff:127.0.0.1", port))
            (await listener.accept())[0].close()


# -- the socket factory hook -------------------------------------------------------------


async def test_custom_socket_factory() -> None:
    made: list[tuple[int, int, int]] = []

    class Factory(nursery.abc.SocketFactory):
        def socket(
            self,
            family: int = nsocket.AF_INET,
            type: int = nsocket.SOCK_STREAM,
            proto: int = 0,
        ) -> nsocket.SocketType:
            made.append((family, type, proto))
            return nsocket.from_stdlib_socket(stdlib_socket.socket(family, type, proto))

    factory = Factory()
    assert nsocket.set_custom_socket_factory(factory) is None
    with nsocket.socket(nsocket.AF_INET, nsocket.SOCK_DGRAM):
        pass
    assert made == [(nsocket.AF_INET, nsocket.SOCK_DGRAM, 0)]
    # fileno= bypasses the factory: the socket already exists.
    with stdlib_socket.socket() as raw:
        nsocket.socket(fileno=os.dup(raw.fileno())).close()
    assert len(made) == 1
    assert nsocket.set_custom_socket_factory(None) is factory
    nsocket.socket().close()
    assert len(made) == 1


async def test_a_fake_socket_subclass_gets_not_implemented() -> None:
    class Fake(nsocket.SocketType):
        pass

    fake = Fake()
    with pytest.raises(NotImplementedError):
        await fake.recv(1)
    with pytest.raises(NotImplementedError):
        fake.fileno()
    with pytest.raises(NotImplementedError), fake:
        pass  # __exit__ calls close()


# -- every operation is a checkpoint, even one that fails at once -------------------------


async def test_an_immediate_failure_is_still_a_checkpoint() -> None:
    with socketpair() as (a, b):
        with assert_checkpoints(), pytest.raises(TypeError):
            await a.recv("not a size")  # type: ignore[arg-type]
        with assert_checkpoints(), pytest.raises(TypeError):
            await a.send("not bytes")  # type: ignore[arg-type]
        with assert_checkpoints(), pytest.raises(TypeError):
            await a.recv_into(b"read-only")
        with assert_checkpoints(), pytest.raises(ValueError):
            await a.recvfrom(-1)
    with nsocket.socket() as sock:
        with assert_checkpoints(), pytest.raises(OSError):
            await sock.accept()  # not listening: EINVAL at once
    with nsocket.socket(nsocket.AF_UNIX) as sock:
        with assert_checkpoints(), pytest.raises(OSError):
            await sock.connect("\0nursery-nobody-listens-here")  # ECONNREFUSED at once


async def test_a_task_that_loses_the_race_for_data_waits_again() -> None:
    # Two sockets, two tasks, each reading both sockets in opposite orders: whoever is
    # woken second may find the data already taken, and must go back to waiting.
    raw_a, raw_b = stdlib_socket.socketpair()
    with raw_a, raw_b:
        a, b = nsocket.from_stdlib_socket(raw_a), nsocket.from_stdlib_socket(raw_b)

        async def first_a_then_b() -> None:
            assert await a.recv(1) == b"a"
            assert await b.recv(1) == b"b"

        async def first_b_then_a() -> None:
            assert await b.recv(1) == b"b"
            assert await a.recv(1) == b"a"

        async with nursery.open_nursery() as n:
            n.start_soon(first_a_then_b)
            n.start_soon(first_b_then_a)
            await wait_all_tasks_blocked()
            # Both wake; the first to run takes one byte from each socket, and the
            # other finds its second socket empty and waits for the next round.
            for _ in range(2):
                raw_b.send(b"a")
                raw_a.send(b"b")
                await wait_all_tasks_blocked()


async def test_methods_can_be_replaced_on_an_instance() -> None:
    # As with Trio's sockets: a test may patch a method onto one socket.
    with nursery.CancelScope() as scope:
        with nsocket.socket() as sock:

            async def resolve_then_cancel(address: object, *, local: bool) -> object:
                scope.cancel()
                await nursery.lowlevel.checkpoint()
                raise AssertionError  # pragma: no cover

            sock._resolve_address_nocp = resolve_then_cancel  # type: ignore[attr-defined]
            await sock.connect(("127.0.0.1", 80))
    assert scope.cancelled_caught
    assert sock.fileno() == -1


async def test_setsockopt_error_messages_name_the_argument() -> None:
    with nsocket.socket() as sock:
        with pytest.raises(TypeError, match="invalid value for argument 'value'"):
            sock.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, None)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="invalid value for argument 'value'"):
            sock.setsockopt(nsocket.IPPROTO_TCP, nsocket.TCP_NODELAY, False, 5)  # type: ignore[call-overload]


async def test_recv_into_and_recvfrom_wait_for_data() -> None:
    with socketpair() as (a, b):
        buffer = bytearray(10)
        async with nursery.open_nursery() as n:

            async def receive_into() -> None:
                assert await b.recv_into(buffer) == 3

            n.start_soon(receive_into)
            await wait_all_tasks_blocked()
            await a.send(b"abc")
        assert buffer[:3] == b"abc"
        async with nursery.open_nursery() as n:

            async def receive_from() -> None:
                assert (await b.recvfrom(10))[0] == b"def"

            n.start_soon(receive_from)
            await wait_all_tasks_blocked()
            await a.send(b"def")


def test_io_outside_a_run_is_a_runtime_error() -> None:
    a, b = nsocket.socketpair()
    with a, b:
        coro = a.recv(1)
        with pytest.raises(RuntimeError, match="nursery.run"):
            coro.send(None)


# -- after a recv that emptied the socket, the next one waits first ---------------------


async def test_recv_after_draining_behaves_the_same() -> None:
    with socketpair() as (a, b):
        await a.send(b"abc")
        assert await b.recv(10) == b"abc"  # less than asked: the socket is empty now
        # Data already there: the wait returns at once, and it is a checkpoint.
        await a.send(b"def")
        with assert_checkpoints():
            assert await b.recv(10) == b"def"
        # recv(0) does not wait.
        assert await b.recv(0) == b""
        # Cancelled while waiting first: nothing is taken.
        with nursery.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(nursery.Cancelled):
                await b.recv(10)
        await a.send(b"kept")
        assert await b.recv(10) == b"kept"
        # A full read leaves the socket maybe non-empty: the next recv tries at once.
        await a.send(b"0123456789")
        assert await b.recv(4) == b"0123"
        with assert_checkpoints():
            assert await b.recv(100) == b"456789"
        # Closing while a drained recv waits wakes it; the end of the stream is seen.
        async with nursery.open_nursery() as n:

            async def waiter() -> None:
                with pytest.raises(nursery.ClosedResourceError):
                    await b.recv(10)

            n.start_soon(waiter)
            await wait_all_tasks_blocked()
            b.close()
        with pytest.raises(OSError) as info:
            await b.recv(10)  # closed: EBADF, as before
        assert info.value.errno == errno.EBADF


async def test_end_of_stream_after_draining() -> None:
    with socketpair() as (a, b):
        await a.send(b"last")
        a.shutdown(nsocket.SHUT_WR)
        assert await b.recv(10) == b"last"
        assert await b.recv(10) == b""
        assert await b.recv(10) == b""


async def test_a_drained_recv_that_loses_a_race_waits_again() -> None:
    raw_a, raw_b = stdlib_socket.socketpair()
    with raw_a, raw_b:
        a, b = nsocket.from_stdlib_socket(raw_a), nsocket.from_stdlib_socket(raw_b)
        raw_b.send(b"x")
        raw_a.send(b"y")
        assert await a.recv(10) == b"x"  # both sockets now drained
        assert await b.recv(10) == b"y"

        async def first_a_then_b() -> None:
            assert await a.recv(1) == b"a"
            assert await b.recv(1) == b"b"

        async def first_b_then_a() -> None:
            assert await b.recv(1) == b"b"
            assert await a.recv(1) == b"a"

        async with nursery.open_nursery() as n:
            n.start_soon(first_a_then_b)
            n.start_soon(first_b_then_a)
            await wait_all_tasks_blocked()
            for _ in range(2):
                raw_b.send(b"a")
                raw_a.send(b"b")
                await wait_all_tasks_blocked()


async def test_datagram_sockets_always_try_first() -> None:
    with nsocket.socket(type=nsocket.SOCK_DGRAM) as server:
        with nsocket.socket(type=nsocket.SOCK_DGRAM) as client:
            await server.bind(("127.0.0.1", 0))
            await client.connect(server.getsockname())
            await server.connect(client.getsockname())
            for message in (b"one", b"two"):
                await client.send(message)
            assert await server.recv(100) == b"one"
            assert not server._drained  # type: ignore[attr-defined]
            assert await server.recv(100) == b"two"


async def test_a_drained_recv_woken_for_data_someone_else_took_waits_again() -> None:
    with socketpair() as (a, b):
        twin = b.dup()  # another fd on the same socket: both can wait at once
        with twin:
            for reader in (b, twin):
                await a.send(b"x")
                assert await reader.recv(10) == b"x"  # drained
            got: list[bytes] = []

            async def read(sock: nsocket.SocketType) -> None:
                got.append(await sock.recv(10))

            async with nursery.open_nursery() as n:
                n.start_soon(read, b)
                n.start_soon(read, twin)
                await wait_all_tasks_blocked()
                # Both wake; the first to run takes the byte, the other finds nothing
                # and must wait again.
                await a.send(b"1")
                await wait_all_tasks_blocked()
                assert got == [b"1"]
                await a.send(b"2")
            assert sorted(got) == [b"1", b"2"]
