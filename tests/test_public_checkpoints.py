"""Every public async function of nursery is a checkpoint: a schedule point and a cancel
point, even when it has nothing to wait for.

The test enumerates the public modules, so a new async function fails here until it
gets a case below (or, with a reason, an entry in NOT_CANCEL_POINTS).
"""

from __future__ import annotations

import functools
import inspect
import os
import pathlib
import socket
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType

import pytest

import nursery
import nursery.lowlevel
import nursery.socket
import nursery.testing
import nursery.to_thread
from nursery._subprocess._process import spawn as spawn_process
from nursery.lowlevel import Abort, ParkingLot
from nursery.testing import MockClock, assert_checkpoints

PUBLIC_MODULES: list[ModuleType] = [
    nursery,
    nursery.lowlevel,
    nursery.testing,
    nursery.to_thread,
    nursery.from_thread,
    nursery.to_process,
    nursery.socket,
]

Case = Callable[[], Awaitable[object]]


def _socketpair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


async def _wait_readable() -> None:
    a, b = _socketpair()
    with a, b:
        b.send(b"ready")  # nothing to wait for: it must still be a checkpoint
        await nursery.lowlevel.wait_readable(a)


async def _wait_writable() -> None:
    a, b = _socketpair()
    with a, b:
        await nursery.lowlevel.wait_writable(a)


async def _start() -> None:
    # As in Trio, start() is a cancel point through the task it starts: a function that
    # calls started() before any checkpoint of its own cannot be cancelled by then.
    async def ready_at_once(task_status: nursery.TaskStatus[None]) -> None:
        await nursery.lowlevel.checkpoint()
        task_status.started()

    async with nursery.open_nursery() as n:
        await n.start(ready_at_once)


async def _park() -> None:
    await ParkingLot().park()  # woken only by the timeout around every case


async def _event_wait() -> None:
    event = nursery.Event()
    event.set()  # nothing to wait for: it must still be a checkpoint
    await event.wait()


async def _acquire_free(
    primitive: nursery.Lock | nursery.StrictFIFOLock | nursery.Semaphore,
) -> None:
    await primitive.acquire()  # free, so it does not block: still a checkpoint
    primitive.release()


async def _condition_acquire() -> None:
    condition = nursery.Condition()
    await condition.acquire()
    condition.release()


async def _condition_wait() -> None:
    condition = nursery.Condition()
    condition.acquire_nowait()
    try:
        await condition.wait()  # never notified: ended by the timeout around every case
    finally:
        condition.release()


async def _limiter_acquire() -> None:
    limiter = nursery.CapacityLimiter(1)
    await limiter.acquire()
    limiter.release()


async def _limiter_acquire_on_behalf_of() -> None:
    limiter = nursery.CapacityLimiter(1)
    await limiter.acquire_on_behalf_of("borrower")
    limiter.release_on_behalf_of("borrower")


async def _send_with_room() -> None:
    send, receive = nursery.open_memory_channel[int](1)
    await send.send(1)  # room in the buffer, so it does not block: still a checkpoint


async def _receive_ready() -> None:
    send, receive = nursery.open_memory_channel[int](1)
    send.send_nowait(1)
    await receive.receive()  # an item is ready: still a checkpoint


async def _channel_aclose(end: int) -> None:
    await nursery.open_memory_channel[int](0)[end].aclose()


async def _fd_stream(operation: str) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"ready")  # nothing to wait for: it must still be a checkpoint
    reader, writer = nursery.lowlevel.FdStream(read_end), nursery.lowlevel.FdStream(write_end)
    try:
        if operation == "send_all":
            await writer.send_all(b"room")
        elif operation == "wait_send_all_might_not_block":
            await writer.wait_send_all_might_not_block()
        elif operation == "receive_some":
            await reader.receive_some()
        else:
            await reader.aclose()
    finally:
        reader.close()
        writer.close()


async def _open_process() -> None:
    process = await nursery.lowlevel.open_process(["true"])
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    process.poll()  # reaps it


async def _process_wait() -> None:
    process = spawn_process(["true"], None, None, None, {})
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited: nothing to wait for
    try:
        await process.wait()
    finally:
        process.poll()


async def _kill(process: nursery.Process) -> None:
    process.kill()


async def _instant() -> int:
    return 1  # no checkpoint of its own: race() and gather() must provide one


async def _stapled(method: str) -> None:
    left, right = nursery.testing.memory_stream_pair()
    await right.send_all(b"x")  # something to receive, so nothing blocks
    if method == "receive_some":
        await left.receive_some()
    elif method == "send_all":
        await left.send_all(b"x")
    else:
        await getattr(left, method)()


async def _memory_send(method: str) -> None:
    stream = nursery.testing.MemorySendStream()
    if method == "get_data":
        await stream.send_all(b"x")
        await stream.get_data()
    elif method == "send_all":
        await stream.send_all(b"x")
    else:
        await getattr(stream, method)()


async def _memory_receive(method: str) -> None:
    stream = nursery.testing.MemoryReceiveStream()
    stream.put_data(b"x")
    if method == "receive_some":
        await stream.receive_some()
    else:
        await stream.aclose()


STREAM_METHODS = ("send_all", "wait_send_all_might_not_block", "send_eof", "receive_some", "aclose")


async def _memory_one_way() -> tuple[nursery.abc.SendStream, nursery.abc.ReceiveStream]:
    return nursery.testing.memory_stream_one_way_pair()


async def _memory_two_way() -> tuple[
    nursery.abc.HalfCloseableStream, nursery.abc.HalfCloseableStream
]:
    return nursery.testing.memory_stream_pair()


async def _open_stream_to_socket_listener() -> None:
    sock = nursery.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    sock.listen()
    async with nursery.SocketListener(sock) as listener:
        client = await nursery.testing.open_stream_to_socket_listener(listener)
        await nursery.aclose_forcefully(client)


# The socket cases set up with the standard library's blocking calls, so that the one
# awaited operation is the only possible checkpoint; each has nothing to wait for (data
# ready, room to send), and must still be a checkpoint.


async def _socket_op(name: str) -> None:
    a, b = socket.socketpair()
    a.send(b"ready")
    sock = nursery.socket.from_stdlib_socket(b)
    with a, sock:
        if name == "recv":
            await sock.recv(10)
        elif name == "recv_into":
            await sock.recv_into(bytearray(10))
        elif name == "recvmsg":
            await sock.recvmsg(10)
        elif name == "recvmsg_into":
            await sock.recvmsg_into([bytearray(10)])
        elif name == "send":
            await sock.send(b"x")
        elif name == "sendmsg":
            await sock.sendmsg([b"x"])
        else:
            assert name == "wait_writable"
            await sock.wait_writable()


async def _udp_op(name: str) -> None:
    a, b = socket.socket(type=socket.SOCK_DGRAM), socket.socket(type=socket.SOCK_DGRAM)
    with a, b:
        b.bind(("127.0.0.1", 0))
        if name == "bind":
            await nursery.socket.from_stdlib_socket(a).bind(("127.0.0.1", 0))
            return
        a.bind(("127.0.0.1", 0))
        b.sendto(b"ready", a.getsockname())
        sock = nursery.socket.from_stdlib_socket(a)
        if name == "sendto":
            await sock.sendto(b"x", b.getsockname())
        elif name == "recvfrom":
            await sock.recvfrom(10)
        else:
            assert name == "recvfrom_into"
            await sock.recvfrom_into(bytearray(10))


async def _tcp_op(name: str) -> None:
    listener = socket.socket()
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        if name == "connect":
            with nursery.socket.socket() as client:
                await client.connect(listener.getsockname())
            return
        with socket.create_connection(listener.getsockname()):
            sock = nursery.socket.from_stdlib_socket(listener)
            if name == "accept":
                conn, _ = await sock.accept()
                conn.close()
            else:
                assert name == "listener_accept"
                stream = await nursery.SocketListener(sock).accept()
                stream.socket.close()


async def _stream_op(name: str) -> None:
    a, b = socket.socketpair()
    a.send(b"ready")
    left = nursery.SocketStream(nursery.socket.from_stdlib_socket(b))
    with a, b:
        if name == "receive_some":
            await left.receive_some()
        elif name == "send_all":
            await left.send_all(b"x")
        elif name == "wait_send_all_might_not_block":
            await left.wait_send_all_might_not_block()
        elif name == "send_eof":
            await left.send_eof()
        else:
            assert name == "aclose"
            await left.aclose()


async def _listener_aclose() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    await nursery.SocketListener(nursery.socket.from_stdlib_socket(sock)).aclose()


_SOCKET_CASES: dict[str, Case] = {
    "nursery.socket.getaddrinfo": lambda: nursery.socket.getaddrinfo("127.0.0.1", 80),
    "nursery.socket.getprotobyname": lambda: nursery.socket.getprotobyname("tcp"),
    "nursery.socket.getnameinfo": lambda: nursery.socket.getnameinfo(
        ("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
    ),
    **{
        f"nursery.socket.SocketType.{op}": (lambda op=op: _socket_op(op))
        for op in ("recv", "recv_into", "recvmsg", "recvmsg_into", "send", "sendmsg")
    },
    "nursery.socket.SocketType.wait_writable": lambda: _socket_op("wait_writable"),
    **{
        f"nursery.socket.SocketType.{op}": (lambda op=op: _udp_op(op))
        for op in ("bind", "sendto", "recvfrom", "recvfrom_into")
    },
    "nursery.socket.SocketType.connect": lambda: _tcp_op("connect"),
    "nursery.socket.SocketType.accept": lambda: _tcp_op("accept"),
    "nursery.SocketListener.accept": lambda: _tcp_op("listener_accept"),
    "nursery.SocketListener.aclose": _listener_aclose,
    **{
        f"nursery.SocketStream.{op}": (lambda op=op: _stream_op(op))
        for op in (
            "receive_some",
            "send_all",
            "wait_send_all_might_not_block",
            "send_eof",
            "aclose",
        )
    },
}


@functools.cache
def _ssl_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("checkpoints.example").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return client_ctx, server_ctx


async def _ssl_op(name: str) -> None:
    client_ctx, server_ctx = _ssl_contexts()
    a, b = nursery.testing.memory_stream_pair()
    client = nursery.SSLStream(a, client_ctx, server_hostname="checkpoints.example")
    server = nursery.SSLStream(b, server_ctx, server_side=True)
    # The setup is shielded, so that a cancelled case is cancelled in the call itself.
    with nursery.CancelScope(shield=True):
        async with nursery.open_nursery() as n:
            n.start_soon(client.do_handshake)
            n.start_soon(server.do_handshake)
        if name == "receive_some":
            await server.send_all(b"ready")
    if name == "unwrap":
        async with nursery.open_nursery() as n:
            n.start_soon(server.unwrap)
            await client.unwrap()
    elif name == "send_all":
        await client.send_all(b"x")
    elif name == "receive_some":
        await client.receive_some()
    else:
        await getattr(client, name)()


class _OneStreamListener(nursery.abc.Listener[nursery.abc.Stream]):
    async def accept(self) -> nursery.abc.Stream:
        await nursery.lowlevel.checkpoint()
        return nursery.testing.memory_stream_pair()[0]

    async def aclose(self) -> None:
        await nursery.lowlevel.checkpoint()


async def _ssl_listener_op(name: str) -> None:
    listener = nursery.SSLListener(_OneStreamListener(), _ssl_contexts()[1])
    await getattr(listener, name)()


async def _ssl_do_nothing(stream: nursery.SSLStream[nursery.SocketStream]) -> None:
    pass


async def _ssl_over_tcp(name: str) -> None:
    client_ctx, server_ctx = _ssl_contexts()
    if name == "open_ssl_over_tcp_listeners":
        for listener in await nursery.open_ssl_over_tcp_listeners(0, server_ctx, host="127.0.0.1"):
            await listener.aclose()
        return
    with nursery.CancelScope(shield=True):
        (listener,) = await nursery.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        host, port = listener.socket.getsockname()
        stream = await nursery.open_ssl_over_tcp_stream(host, port, ssl_context=client_ctx)
        await nursery.aclose_forcefully(stream)


_SSL_CASES: dict[str, Case] = {
    **{
        f"nursery.SSLStream.{op}": (lambda op=op: _ssl_op(op))
        for op in (
            "do_handshake",
            "send_all",
            "wait_send_all_might_not_block",
            "receive_some",
            "unwrap",
            "aclose",
        )
    },
    "nursery.SSLListener.accept": lambda: _ssl_listener_op("accept"),
    "nursery.SSLListener.aclose": lambda: _ssl_listener_op("aclose"),
    "nursery.open_ssl_over_tcp_stream": lambda: _ssl_over_tcp("open_ssl_over_tcp_stream"),
    "nursery.open_ssl_over_tcp_listeners": lambda: _ssl_over_tcp("open_ssl_over_tcp_listeners"),
    # Serves forever: ended by the timeout around every case.
    "nursery.serve_ssl_over_tcp": lambda: nursery.serve_ssl_over_tcp(
        _ssl_do_nothing, 0, _ssl_contexts()[1], host="127.0.0.1"
    ),
}


# name -> how to call it so that it completes (within the 1 s timeout every case gets)
CASES: dict[str, Case] = {
    "nursery.sleep": lambda: nursery.sleep(0),
    "nursery.sleep_until": lambda: nursery.sleep_until(nursery.current_time()),
    "nursery.sleep_forever": nursery.sleep_forever,
    "nursery.Nursery.start": _start,
    "nursery.lowlevel.checkpoint": nursery.lowlevel.checkpoint,
    "nursery.lowlevel.wait_task_rescheduled": lambda: nursery.lowlevel.wait_task_rescheduled(
        lambda _: Abort.SUCCEEDED
    ),
    "nursery.lowlevel.wait_readable": _wait_readable,
    "nursery.lowlevel.wait_writable": _wait_writable,
    "nursery.lowlevel.ParkingLot.park": _park,
    "nursery.testing.wait_all_tasks_blocked": nursery.testing.wait_all_tasks_blocked,
    "nursery.Event.wait": _event_wait,
    "nursery.Lock.acquire": lambda: _acquire_free(nursery.Lock()),
    "nursery.StrictFIFOLock.acquire": lambda: _acquire_free(nursery.StrictFIFOLock()),
    "nursery.Semaphore.acquire": lambda: _acquire_free(nursery.Semaphore(1)),
    "nursery.Condition.acquire": _condition_acquire,
    "nursery.Condition.wait": _condition_wait,
    "nursery.CapacityLimiter.acquire": _limiter_acquire,
    "nursery.CapacityLimiter.acquire_on_behalf_of": _limiter_acquire_on_behalf_of,
    "nursery.MemorySendChannel.send": _send_with_room,
    "nursery.MemorySendChannel.aclose": lambda: _channel_aclose(0),
    "nursery.MemoryReceiveChannel.receive": _receive_ready,
    "nursery.MemoryReceiveChannel.aclose": lambda: _channel_aclose(1),
    "nursery.race": lambda: nursery.race(_instant),
    "nursery.gather": lambda: nursery.gather(_instant),
    "nursery.to_thread.run_sync": lambda: nursery.to_thread.run_sync(int),
    "nursery.testing.wait_all_threads_completed": nursery.testing.wait_all_threads_completed,
    # Under the autojump clock the timeout may cut the call short (the worker starts in
    # real time): a cancelled call is still a checkpoint, and kills its worker.
    "nursery.to_process.run_sync": lambda: nursery.to_process.run_sync(int),
    "nursery.lowlevel.FdStream.send_all": lambda: _fd_stream("send_all"),
    "nursery.lowlevel.FdStream.wait_send_all_might_not_block": lambda: _fd_stream(
        "wait_send_all_might_not_block"
    ),
    "nursery.lowlevel.FdStream.receive_some": lambda: _fd_stream("receive_some"),
    "nursery.lowlevel.FdStream.aclose": lambda: _fd_stream("aclose"),
    "nursery.lowlevel.open_process": _open_process,
    "nursery.Process.wait": _process_wait,
    # The child may outlive the 1 s timeout on the autojump clock: kill it at once then.
    "nursery.run_process": lambda: nursery.run_process(["true"], deliver_cancel=_kill),
    **{f"nursery.StapledStream.{m}": functools.partial(_stapled, m) for m in STREAM_METHODS},
    "nursery.aclose_forcefully": lambda: nursery.aclose_forcefully(
        nursery.testing.MemorySendStream()
    ),
    **{
        f"nursery.testing.MemorySendStream.{m}": functools.partial(_memory_send, m)
        for m in ("send_all", "wait_send_all_might_not_block", "aclose", "get_data")
    },
    **{
        f"nursery.testing.MemoryReceiveStream.{m}": functools.partial(_memory_receive, m)
        for m in ("receive_some", "aclose")
    },
    "nursery.testing.check_one_way_stream": lambda: nursery.testing.check_one_way_stream(
        _memory_one_way, None
    ),
    "nursery.testing.check_two_way_stream": lambda: nursery.testing.check_two_way_stream(
        _memory_two_way, None
    ),
    "nursery.testing.open_stream_to_socket_listener": _open_stream_to_socket_listener,
    "nursery.testing.check_half_closeable_stream": lambda: (
        nursery.testing.check_half_closeable_stream(_memory_two_way, None)
    ),
    **_SOCKET_CASES,
    **_SSL_CASES,
}


# -- files: open_file and every async method of nursery.Path (and of PosixPath, which
# inherits them), each run on a fresh little tree: a file, a symlink to it, an empty dir.
_PATH_CALLS: dict[str, tuple[str, tuple[object, ...]]] = {  # name: (path, arguments)
    "glob": (".", ("*",)),
    "rglob": (".", ("*",)),
    "iterdir": (".", ()),
    "readlink": ("link", ()),
    "rmdir": ("empty", ()),
    "mkdir": ("new", ()),
    "touch": ("new", ()),
    "write_bytes": ("new", (b"x",)),
    "write_text": ("new", ("x",)),
    "chmod": ("file", (0o644,)),
    "lchmod": ("file", (0o644,)),
    "samefile": ("file", ("{tmp}/link",)),
    "rename": ("file", ("{tmp}/renamed",)),
    "replace": ("file", ("{tmp}/renamed",)),
    "symlink_to": ("symlink", ("file",)),
    "hardlink_to": ("hardlink", ("{tmp}/file",)),
}


async def _path_method(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (pathlib.Path(tmp) / "file").write_text("x")
        (pathlib.Path(tmp) / "link").symlink_to("file")
        (pathlib.Path(tmp) / "empty").mkdir()
        where, args = _PATH_CALLS.get(name, ("file", ()))
        args = tuple(arg.format(tmp=tmp) if isinstance(arg, str) else arg for arg in args)
        result = await getattr(nursery.Path(tmp, where), name)(*args)
        if name == "open":
            with nursery.CancelScope(shield=True):
                await result.aclose()


async def _open_file() -> None:
    with tempfile.NamedTemporaryFile() as f:
        opened = await nursery.open_file(f.name)
        with nursery.CancelScope(shield=True):
            await opened.aclose()


CASES["nursery.open_file"] = _open_file
for _name, _member in vars(nursery.Path).items():
    if inspect.iscoroutinefunction(_member):
        for _cls in ("Path", "PosixPath"):
            CASES[f"nursery.{_cls}.{_name}"] = lambda name=_name: _path_method(name)
# -- high-level networking: open_tcp_stream, listeners, serving ----------------------------


async def _tcp_listener() -> nursery.SocketListener:
    (listener,) = await nursery.open_tcp_listeners(0, host="127.0.0.1")
    return listener


async def _open_tcp_stream() -> None:
    async with await _tcp_listener() as listener:
        host, port = listener.socket.getsockname()
        await (await nursery.open_tcp_stream(host, port)).aclose()


async def _open_tcp_listeners() -> None:
    for listener in await nursery.open_tcp_listeners(0, host="127.0.0.1"):
        listener.socket.close()


async def _do_nothing(stream: nursery.SocketStream) -> None:
    pass


async def _serve_listeners() -> None:
    # Serves forever: ended by the timeout around every case.
    await nursery.serve_listeners(_do_nothing, [await _tcp_listener()])


async def _open_unix_socket() -> None:
    with tempfile.TemporaryDirectory() as directory, socket.socket(socket.AF_UNIX) as listener:
        listener.bind(f"{directory}/sock")
        listener.listen()
        await (await nursery.open_unix_socket(f"{directory}/sock")).aclose()


CASES.update(
    {
        "nursery.open_tcp_stream": _open_tcp_stream,
        "nursery.open_tcp_listeners": _open_tcp_listeners,
        "nursery.serve_listeners": _serve_listeners,
        "nursery.serve_tcp": lambda: nursery.serve_tcp(_do_nothing, 0, host="127.0.0.1"),
        "nursery.open_unix_socket": _open_unix_socket,
    }
)

# Deliberate exceptions, each documented in docs/checkpoints.md.
NOT_CANCEL_POINTS = {
    # Its whole point: a schedule point that ignores cancellation.
    "nursery.lowlevel.cancel_shielded_checkpoint",
    # A cancel point always, a schedule point only when it raises (a cheap check).
    "nursery.lowlevel.checkpoint_if_cancelled",
    # They hand the coroutine to (or take it from) another coroutine runner, which
    # decides what happens at that point (tests/core/test_detach.py).
    "nursery.lowlevel.temporarily_detach_coroutine_object",
    "nursery.lowlevel.reattach_detached_coroutine_object",
    "nursery.lowlevel.permanently_detach_coroutine_object",
}


def _is_async(obj: object) -> bool:
    if inspect.iscoroutinefunction(obj):
        return True
    code = getattr(obj, "__code__", None)
    # Generator-based coroutines (types.coroutine): the kernel's traps.
    if code is not None and bool(code.co_flags & inspect.CO_ITERABLE_COROUTINE):
        return True
    # Plain functions that return an awaitable, to be awaited at once: the checkpoint
    # traps, which hand out a shared awaitable instead of building a coroutine.
    returns = str(getattr(obj, "__annotations__", {}).get("return", ""))
    return callable(obj) and returns.startswith("Awaitable")


def public_async_functions() -> Iterator[str]:
    for module in PUBLIC_MODULES:
        for name in dir(module):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            qualified = f"{module.__name__}.{name}"
            if _is_async(obj) or obj is nursery.lowlevel.wait_task_rescheduled:
                yield qualified
            elif inspect.isclass(obj) and obj.__module__.startswith("nursery"):
                # Inherited methods count too (Lock gets acquire() from a private base).
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("nursery"):
                        continue
                    for attr, member in vars(klass).items():
                        if not attr.startswith("_") and _is_async(member):
                            yield f"{qualified}.{attr}"


def test_every_public_async_function_has_a_case() -> None:
    found = set(public_async_functions())
    missing = found - set(CASES) - NOT_CANCEL_POINTS
    assert not missing, f"add a checkpoint case for: {sorted(missing)}"
    # And the table lists nothing that is gone.
    assert set(CASES) | NOT_CANCEL_POINTS <= found


@pytest.mark.parametrize("name", sorted(CASES))
async def test_is_a_schedule_point_and_a_cancel_point(name: str, autojump_clock: MockClock) -> None:
    with assert_checkpoints():
        with nursery.move_on_after(1):
            await CASES[name]()


@pytest.mark.parametrize("name", sorted(CASES))
async def test_raises_cancelled_in_a_cancelled_scope(name: str, autojump_clock: MockClock) -> None:
    raised: BaseException | None = None
    with nursery.CancelScope() as scope:
        scope.cancel()
        try:
            await CASES[name]()
        except BaseException as exc:  # a case that opens a nursery raises a group
            raised = exc
    if isinstance(raised, BaseExceptionGroup):
        rest = raised.split(nursery.Cancelled)[1]
        assert rest is None, f"{name} raised {rest!r} besides Cancelled"
    else:
        assert isinstance(raised, nursery.Cancelled), f"{name} did not raise Cancelled"
