"""open_unix_socket: connecting by path (str, bytes, path-like), errors, cancellation."""

from __future__ import annotations

import os
import socket as stdlib_socket
from pathlib import Path

import pytest

import nursery
import nursery.socket as nsocket
from nursery import SocketStream, open_unix_socket


async def unix_listener(path: Path) -> nsocket.SocketType:
    sock = nsocket.socket(stdlib_socket.AF_UNIX, stdlib_socket.SOCK_STREAM)
    await sock.bind(str(path))
    sock.listen()
    return sock


@pytest.mark.parametrize("kind", [str, os.fsencode, Path])
async def test_connects_by_path(tmp_path: Path, kind: object) -> None:
    path = tmp_path / "sock"
    with await unix_listener(path) as listener:
        async with await open_unix_socket(kind(path)) as stream:  # type: ignore[operator]
            assert isinstance(stream, SocketStream)
            assert stream.socket.family == stdlib_socket.AF_UNIX
            server, _ = await listener.accept()
            with server:
                await stream.send_all(b"over unix")
                assert await server.recv(100) == b"over unix"
                await server.send(b"back")
                assert await stream.receive_some() == b"back"


async def test_nothing_there(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await open_unix_socket(tmp_path / "missing")


async def test_nobody_listening(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    listener = await unix_listener(path)
    listener.close()  # the file stays, but nobody listens any more
    with pytest.raises(ConnectionRefusedError):
        await open_unix_socket(path)


async def test_bad_filename() -> None:
    with pytest.raises(TypeError, match="filename must be"):
        await open_unix_socket(1)  # type: ignore[arg-type]


async def test_cancelled_leaves_no_fd(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    with await unix_listener(path):
        before = len(os.listdir("/proc/self/fd"))
        with nursery.CancelScope() as scope:
            scope.cancel()
            await open_unix_socket(path)
        assert scope.cancelled_caught
        assert len(os.listdir("/proc/self/fd")) == before


async def test_platform_without_unix_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    import nursery._unix_socket

    monkeypatch.setattr(nursery._unix_socket, "has_unix", False)
    with pytest.raises(RuntimeError, match="Unix sockets are not supported"):
        await open_unix_socket("/tmp/anything")
