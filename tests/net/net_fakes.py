"""A fake network for open_tcp_stream tests: a resolver and a socket factory whose
sockets connect after a scripted delay, or fail, in virtual time. Install it with
``FakeNetwork.install()`` inside a run (the hooks are per run)."""

from __future__ import annotations

import errno
import socket as stdlib_socket
from typing import Any

import nursery
import nursery.socket as nsocket
from nursery.abc import HostnameResolver, SocketFactory

HOST = "test.example.com"


def family_of(ip: str) -> stdlib_socket.AddressFamily:
    return stdlib_socket.AF_INET6 if ":" in ip else stdlib_socket.AF_INET


class FakeSocket(nsocket.SocketType):
    def __init__(self, network: FakeNetwork, family: int, type: int, proto: int) -> None:
        super().__init__()
        self.network = network
        self._family = stdlib_socket.AddressFamily(family)
        self._type = stdlib_socket.SocketKind(type)
        self._proto = proto
        self.closed = False
        self.connected_to: str | None = None
        self.succeeded = False
        self.bound_to: Any = None
        self.options: dict[tuple[int, int], Any] = {}

    @property
    def family(self) -> stdlib_socket.AddressFamily:
        return self._family

    @property
    def type(self) -> stdlib_socket.SocketKind:
        return self._type

    @property
    def proto(self) -> int:
        return self._proto

    def fileno(self) -> int:
        return -1

    def close(self) -> None:
        self.closed = True

    def setsockopt(self, level: int, optname: int, value: Any, optlen: Any = None) -> None:
        self.options[(level, optname)] = value

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> Any:
        return self.options.get((level, optname), 0)

    async def bind(self, address: Any) -> None:
        await nursery.lowlevel.checkpoint()
        if family_of(address[0]) != self._family:
            raise OSError(errno.EINVAL, "wrong address family for this socket")
        self.bound_to = address

    async def connect(self, address: Any) -> None:
        ip = address[0]
        self.connected_to = ip
        self.network.connect_times[ip] = nursery.current_time()
        seconds, outcome = self.network.behaviour[ip]
        await nursery.sleep(seconds)
        if outcome != "success":
            raise OSError(errno.ECONNREFUSED, f"{ip} refused the connection")
        self.succeeded = True


class FakeNetwork(HostnameResolver, SocketFactory):
    def __init__(
        self,
        targets: list[tuple[str, float, str]],
        *,
        ipv4: bool = True,
        ipv6: bool = True,
    ) -> None:
        # ip -> (seconds the connect takes, "success" or "error")
        self.addresses = [ip for ip, _, _ in targets]
        self.behaviour = {ip: (seconds, outcome) for ip, seconds, outcome in targets}
        self.supported = {stdlib_socket.AF_INET: ipv4, stdlib_socket.AF_INET6: ipv6}
        self.connect_times: dict[str, float] = {}
        self.sockets: list[FakeSocket] = []
        self.lookups: list[tuple[Any, ...]] = []

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
        self.lookups.append((host, port, family, type, proto, flags))
        assert host == HOST.encode()
        results: list[tuple[Any, ...]] = []
        for ip in self.addresses:
            fam = family_of(ip)
            sockaddr = (ip, port, 0, 0) if fam == stdlib_socket.AF_INET6 else (ip, port)
            results.append(
                (fam, stdlib_socket.SOCK_STREAM, stdlib_socket.IPPROTO_TCP, "", sockaddr)
            )
        return results

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        raise NotImplementedError

    def socket(
        self,
        family: int = stdlib_socket.AF_INET,
        type: int = stdlib_socket.SOCK_STREAM,
        proto: int = 0,
    ) -> nsocket.SocketType:
        if not self.supported[stdlib_socket.AddressFamily(family)]:
            raise OSError(errno.EAFNOSUPPORT, "address family not supported (pretend)")
        sock = FakeSocket(self, family, type, proto)
        self.sockets.append(sock)
        return sock

    def open_sockets(self) -> list[FakeSocket]:
        return [sock for sock in self.sockets if not sock.closed]
