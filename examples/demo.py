"""A tour of nursery in one run, in about a second: a TCP server, concurrent clients, a
race, a timeout, and a shutdown that leaves nothing running.

Run it with ``python examples/demo.py``. Each line is printed as it happens, with the
time since the start.

The protocol: a client connects, sends ``"<seconds> <words>"`` and closes its side; the
server waits that many seconds (a stand-in for real work), answers with the words in
capitals and hangs up.
"""

from __future__ import annotations

from functools import partial

import nursery

start = 0.0  # the run's clock at the start of main()


def say(who: str, text: str) -> None:
    print(f"[{nursery.current_time() - start:5.2f}s] {who:<8} {text}", flush=True)


# -- the server: one task per connection, started by serve_tcp ------------------------------

handlers_running = 0


async def handle(stream: nursery.SocketStream) -> None:
    global handlers_running
    handlers_running += 1
    words = ""
    try:
        request = b""
        async for chunk in stream:  # until the client closes its side
            request += chunk
        seconds, _, words = request.decode().partition(" ")
        say("server", f"{words!r}: working {seconds}s")
        await nursery.sleep(float(seconds))
        await stream.send_all(words.upper().encode())
    except nursery.BrokenResourceError:
        say("server", f"{words!r}: the client had gone")
    except nursery.Cancelled:
        say("server", f"{words!r}: cancelled while working")
        raise
    finally:
        handlers_running -= 1  # serve_tcp closes the stream when we return


# -- a client: one connection per request ----------------------------------------------------


async def ask(port: int, seconds: float, words: str) -> str:
    try:
        async with await nursery.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(f"{seconds} {words}".encode())
            await stream.send_eof()  # "that is the whole request"
            reply = b""
            async for chunk in stream:  # until the server hangs up
                reply += chunk
    except nursery.Cancelled:
        say("client", f"{words!r}: cancelled, connection closed")
        raise
    say("client", f"{words!r} -> {reply.decode()!r}")
    return reply.decode()


async def main() -> None:
    global start
    start = nursery.current_time()
    async with nursery.open_nursery() as server:
        # start() returns once the server listens; port 0 lets the kernel pick a port.
        listeners = await server.start(partial(nursery.serve_tcp, handle, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        say("server", f"listening on 127.0.0.1:{port}")

        # 1. Three clients at once: replies arrive as each is ready, and gather() hands
        #    them back in the order asked.
        replies = await nursery.gather(
            partial(ask, port, 0.3, "slow and steady"),
            partial(ask, port, 0.1, "structured"),
            partial(ask, port, 0.2, "concurrency"),
        )
        say("main", f"gather: {replies}")
        assert replies == ["SLOW AND STEADY", "STRUCTURED", "CONCURRENCY"]

        # 2. First answer wins: race() cancels the slower request, and returns once it
        #    has finished unwinding.
        winner = await nursery.race(
            partial(ask, port, 0.4, "tortoise"),
            partial(ask, port, 0.1, "hare"),
        )
        say("main", f"race: {winner!r} won; the other request was cancelled")
        assert winner == "HARE"

        # 3. A timeout is a cancel scope with a deadline: this request would take 10s.
        try:
            with nursery.fail_after(0.25):
                await ask(port, 10, "sloth")
        except nursery.TooSlowError:
            say("main", "fail_after: no answer within 0.25s, request abandoned")

        # 4. Cancelling the server's scope stops everything inside it: the listener and
        #    every connection still being handled (the sloth's, above).
        say("main", f"shutting down with {handlers_running} handler(s) still busy")
        server.cancel_scope.cancel()
    assert handlers_running == 0
    say("main", "server stopped; nothing is left running")


if __name__ == "__main__":
    nursery.run(main)
