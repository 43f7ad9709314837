"""Raw I/O waits on file descriptors: wait_readable, wait_writable, notify_closing."""

import socket

import nursery
import nursery.lowlevel as ll
from nursery.testing import wait_all_tasks_blocked


async def recv_some(sock: socket.socket) -> bytes:
    while True:
        try:
            return sock.recv(4096)
        except BlockingIOError:
            await ll.wait_readable(sock)  # an fd number, or anything with fileno()


async def send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            await ll.wait_writable(sock)
        else:
            view = view[sent:]


async def main() -> None:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)

    received: list[bytes] = []

    async def reader() -> None:
        received.append(await recv_some(b))

    async with nursery.open_nursery() as n:
        n.start_soon(reader)
        await wait_all_tasks_blocked()  # the reader is parked on b

        # One reader and one writer per fd at a time: a second reader is refused.
        try:
            await ll.wait_readable(b)
        except nursery.BusyResourceError as exc:
            print("second reader:", exc)

        await send_all(a, b"hello")
    print("received:", received)
    assert received == [b"hello"]

    # Closing an fd that a task waits on: call notify_closing() first, so the
    # waiter wakes with ClosedResourceError instead of sleeping forever.
    async def doomed_reader() -> None:
        try:
            await ll.wait_readable(b)
        except nursery.ClosedResourceError as exc:
            print("waiter woke with:", repr(exc))

    async with nursery.open_nursery() as n:
        n.start_soon(doomed_reader)
        await wait_all_tasks_blocked()
        ll.notify_closing(b)
        b.close()
    a.close()

    # Waiting is a checkpoint, so it can be cancelled like anything else.
    c, d = socket.socketpair()
    with c, d, nursery.move_on_after(0.01) as scope:
        await ll.wait_readable(c)
    assert scope.cancelled_caught
    print("io statistics:", ll.current_statistics().io_statistics)


if __name__ == "__main__":
    nursery.run(main)
