"""Nursery.start(): wait until a task says it is ready, and get a value back."""

import nursery
from nursery import TASK_STATUS_IGNORED, TaskStatus


async def fake_server(
    port: int, log: list[str], *, task_status: TaskStatus[int] = TASK_STATUS_IGNORED
) -> None:
    await nursery.sleep(0.01)  # pretend to bind a socket
    log.append(f"listening on {port}")
    task_status.started(port)  # start() returns this value
    try:
        await nursery.sleep_forever()  # serve until cancelled
    finally:
        log.append(f"closed {port}")


async def fails_early(*, task_status: TaskStatus[None] = TASK_STATUS_IGNORED) -> None:
    raise OSError("address already in use")


async def never_ready(*, task_status: TaskStatus[None] = TASK_STATUS_IGNORED) -> None:
    await nursery.sleep(0)  # returns without calling started()


async def main() -> None:
    log: list[str] = []
    async with nursery.open_nursery() as n:
        port = await n.start(fake_server, 8080, log)
        # By now the server is ready: no sleeping and hoping.
        print("start() returned", port, "- log:", log)
        assert port == 8080 and log == ["listening on 8080"]

        # The same function works with start_soon(): task_status defaults to
        # TASK_STATUS_IGNORED, whose started() does nothing.
        n.start_soon(fake_server, 8081, log)

        # An error raised before started() comes out of start() itself, unwrapped.
        try:
            await n.start(fails_early)
        except OSError as exc:
            print("start() raised:", repr(exc))

        try:
            await n.start(never_ready)
        except RuntimeError as exc:
            print("start() raised:", exc)

        # Until started(), the new task runs inside start(), so cancelling the
        # caller's scope cancels it too.
        with nursery.move_on_after(0.001) as scope:
            await n.start(fake_server, 9999, log)
        print("slow start abandoned:", scope.cancelled_caught)
        assert scope.cancelled_caught

        await nursery.sleep(0.02)
        n.cancel_scope.cancel()  # stop the servers

    print("log:", sorted(log))
    assert "listening on 9999" not in log
    assert {"closed 8080", "closed 8081"} <= set(log)


if __name__ == "__main__":
    nursery.run(main)
