"""Subprocesses: run_process for one-shot commands, a two-process pipeline under a
timeout, and what cancellation does to a child."""

import signal
import subprocess
import sys
import time
from functools import partial

import nursery
from nursery.abc import ReceiveStream, SendStream


async def one_shot() -> None:
    # Like subprocess.run, with two safer defaults: check=True and an empty stdin.
    result = await nursery.run_process(["echo", "hello"], capture_stdout=True)
    assert result.stdout == b"hello\n"

    # Bytes given as stdin are fed to the child while its output is collected.
    result = await nursery.run_process(["sort"], stdin=b"pear\napple\n", capture_stdout=True)
    assert result.stdout == b"apple\npear\n"

    # A nonzero exit status raises, with whatever output was captured.
    try:
        await nursery.run_process(["sh", "-c", "echo oops >&2; exit 3"], capture_stderr=True)
    except subprocess.CalledProcessError as error:
        assert (error.returncode, error.stderr) == (3, b"oops\n")
    print("one-shot commands: ok")


async def pump(source: ReceiveStream, sink: SendStream) -> None:
    """Copy one child's output into the next one's input, then close both ends."""
    async with source, sink:
        async for chunk in source:
            await sink.send_all(chunk)


async def count_lines_with_a_seven(limit: int) -> int:
    # seq 1 LIMIT | grep -c 7, with the bytes passing through this program.
    async with nursery.open_nursery() as n:
        run = partial(nursery.run_process, check=False)
        producer = await n.start(partial(run, ["seq", "1", str(limit)], stdout=subprocess.PIPE))
        consumer = await n.start(
            partial(run, ["grep", "-c", "7"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        )
        n.start_soon(pump, producer.stdout, consumer.stdin)
        output = b""
        async with consumer.stdout:
            async for chunk in consumer.stdout:
                output += chunk
    return int(output)


async def pipeline_with_timeouts() -> None:
    with nursery.fail_after(10):
        assert await count_lines_with_a_seven(100_000) == 40951
    print("pipeline: 40951 of 100000 numbers contain a 7")

    # A child that takes too long is stopped (SIGTERM) and reaped when the timeout
    # cancels run_process: nothing is left running once the block ends.
    started = time.monotonic()
    with nursery.move_on_after(0.1) as scope:
        await nursery.run_process(["sleep", "10"])
    assert scope.cancelled_caught and time.monotonic() - started < 5
    print("slow child: stopped at the timeout")


async def read_until(stream: ReceiveStream, end: bytes) -> bytes:
    """Read until the data received ends with ``end`` (a pipe may split any write)."""
    data = b""
    while not data.endswith(end):
        chunk = await stream.receive_some()
        if not chunk:
            raise EOFError(f"the stream ended before {end!r}: {data!r}")
        data += chunk
    return data


CLEANS_UP_ON_SIGINT = """
import time
try:
    print("working", flush=True)
    time.sleep(10)
except KeyboardInterrupt:
    print("interrupted: saving state", flush=True)
"""


async def gentle_cancellation() -> None:
    # deliver_cancel chooses how a cancelled child is asked to stop: here SIGINT, which
    # Python turns into KeyboardInterrupt, so the child can clean up first.
    async def interrupt(process: nursery.Process) -> None:
        process.send_signal(signal.SIGINT)

    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as n:
            command = [sys.executable, "-c", CLEANS_UP_ON_SIGINT]
            child = await n.start(
                partial(
                    nursery.run_process, command, stdout=subprocess.PIPE, deliver_cancel=interrupt
                )
            )
            assert await read_until(child.stdout, b"working\n") == b"working\n"
            scope.cancel()
    async with child.stdout:
        rest = b"".join([chunk async for chunk in child.stdout])
    assert rest == b"interrupted: saving state\n"
    assert child.returncode == 0  # it handled the interrupt and exited normally
    print("gentle cancellation: the child saved its state")


async def main() -> None:
    await one_shot()
    await pipeline_with_timeouts()
    await gentle_cancellation()


if __name__ == "__main__":
    nursery.run(main)
