"""A tour of nursery in one run: a TCP echo server, concurrent clients, timeouts and
cancellation, all visibly working.

Run it with ``python examples/demo.py``. The server and clients use plain non-blocking
sockets and nursery's low-level I/O waits (the friendlier socket layer comes later).
"""

from __future__ import annotations

import socket

import nursery
from nursery.lowlevel import notify_closing, wait_readable, wait_writable

start = 0.0


def say(who: str, text: str) -> None:
    print(f"[{nursery.current_time() - start:6.3f}s] {who:<10} {text}", flush=True)


def close(sock: socket.socket) -> None:
    notify_closing(sock)  # wake anyone waiting on it before the fd goes away
    sock.close()


async def recv(sock: socket.socket) -> bytes:
    while True:
        try:
            return sock.recv(4096)
        except BlockingIOError:
            await wait_readable(sock)


async def send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            await wait_writable(sock)


async def connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        await wait_writable(sock)
    return sock


# -- the server --------------------------------------------------------------------------


async def handle(conn: socket.socket, name: str) -> None:
    try:
        while data := await recv(conn):
            await send_all(conn, data.upper())
        say("server", f"{name} hung up")
    finally:
        close(conn)


async def serve(listener: socket.socket, task_status: nursery.TaskStatus[int]) -> None:
    async with nursery.open_nursery() as handlers:
        task_status.started(listener.getsockname()[1])
        count = 0
        while True:
            await wait_readable(listener)
            conn, _ = listener.accept()
            conn.setblocking(False)
            count += 1
            handlers.start_soon(handle, conn, f"client#{count}")


# -- the clients -------------------------------------------------------------------------


async def polite_client(port: int, name: str, words: list[str]) -> None:
    sock = await connect(port)
    try:
        for word in words:
            await send_all(sock, word.encode())
            say(name, f"sent {word!r}, got {(await recv(sock)).decode()!r}")
            await nursery.sleep(0.05)
    finally:
        close(sock)


async def impatient_client(port: int) -> None:
    sock = await connect(port)
    try:
        # The server answers at once, but we wait for a *second* reply that never
        # comes: the timeout cancels the wait, and the block is simply abandoned.
        await send_all(sock, b"ping")
        await recv(sock)
        with nursery.move_on_after(0.2) as scope:
            await recv(sock)
        say("impatient", f"gave up waiting after 0.2s (cancelled_caught={scope.cancelled_caught})")
        try:
            with nursery.fail_after(0.1):
                await recv(sock)
        except nursery.TooSlowError:
            say("impatient", "fail_after raised TooSlowError, as promised")
    finally:
        close(sock)


async def doomed_worker(name: str) -> None:
    try:
        await nursery.sleep_forever()
    except nursery.Cancelled as cancelled:
        say(name, f"cancelled: {cancelled}")
        raise


async def failing_worker() -> None:
    await nursery.sleep(0.1)
    raise ValueError("something went wrong")


async def main() -> None:
    global start
    start = nursery.current_time()
    listener = socket.socket()
    listener.setblocking(False)
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    async with nursery.open_nursery() as server_nursery:
        port = await server_nursery.start(serve, listener)
        say("server", f"listening on 127.0.0.1:{port}")

        # 1. Concurrent clients: three conversations interleave.
        async with nursery.open_nursery() as clients:
            clients.start_soon(polite_client, port, "alice", ["hello", "world"])
            clients.start_soon(polite_client, port, "bob", ["structured", "concurrency"])
            clients.start_soon(impatient_client, port)
        say("main", "all clients done")

        # 2. An error in one child cancels its siblings and reaches us as a group.
        try:
            async with nursery.open_nursery() as workers:
                workers.start_soon(doomed_worker, "worker-1")
                workers.start_soon(doomed_worker, "worker-2")
                workers.start_soon(failing_worker)
        except* ValueError as group:
            say("main", f"caught {group.exceptions[0]!r}; the siblings were cancelled")

        # 3. Cancelling a scope stops everything inside it: here, the whole server.
        say("main", "shutting the server down")
        server_nursery.cancel_scope.cancel(reason="demo finished")
    close(listener)
    say("main", "server stopped; nothing was left running")


if __name__ == "__main__":
    nursery.run(main)
