"""Threads: to_thread.run_sync for blocking work, from_thread to call back into the run,
and what cancellation does to a thread."""

import contextvars
import hashlib
import tempfile
import threading
import time
from pathlib import Path

import nursery
import nursery.testing
from nursery import from_thread, to_thread

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def hash_file(path: Path) -> str:
    # Plain blocking code: it reads the file and hashes it, off the run's thread.
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


async def hash_one(path: Path) -> str:
    # The run goes on while the thread works; the call is a checkpoint.
    return await to_thread.run_sync(hash_file, path)


async def hash_tree(paths: list[Path]) -> dict[str, str]:
    # At most 3 files are read at once, whatever the number of tasks.
    limiter = nursery.CapacityLimiter(3)
    digests: dict[str, str] = {}

    async def hash_into(path: Path) -> None:
        digests[path.name] = await to_thread.run_sync(hash_file, path, limiter=limiter)
        print(f"hashed {len(digests)}/{len(paths)}: {path.name}")

    async with nursery.open_nursery() as n:
        for path in paths:
            n.start_soon(hash_into, path)
    return digests


async def errors_and_contextvars() -> None:
    def parse(text: str) -> int:
        return int(text)  # raises in the thread, re-raised in the task

    try:
        await to_thread.run_sync(parse, "not a number")
    except ValueError as exc:
        print("the thread raised:", exc)

    request_id.set("req-42")
    # The thread runs in a copy of the caller's contextvars.
    seen = await to_thread.run_sync(request_id.get)
    assert seen == "req-42"


async def calling_back_into_the_run() -> list[str]:
    log: list[str] = []

    async def save(line: str) -> None:
        await nursery.sleep(0)  # any async code: it runs in the calling task
        log.append(line)

    def worker() -> str:
        for step in range(3):
            # Blocks this thread until save() has finished in the run.
            from_thread.run(save, f"step {step} of {request_id.get()}")
        # A sync function runs in the run's thread, between two task steps.
        return from_thread.run_sync(lambda: f"{len(log)} lines saved")

    request_id.set("req-7")
    log.append(await to_thread.run_sync(worker))
    return log


async def cancellation() -> None:
    # By default a cancelled call still waits for its thread (Python cannot stop one);
    # the thread can notice with from_thread.check_cancelled() and give up early.
    def long_job() -> int:
        done = 0
        while True:
            from_thread.check_cancelled()  # raises Cancelled once the caller is cancelled
            time.sleep(0.001)  # a slice of real work
            done += 1

    with nursery.move_on_after(0.05) as scope:
        await to_thread.run_sync(long_job)
    assert scope.cancelled_caught

    # With abandon_on_cancel=True the call raises Cancelled at once and the thread is
    # left to finish alone; whatever it returns or raises then is dropped quietly.
    release = threading.Event()

    def stuck() -> None:
        release.wait()
        raise RuntimeError("nobody will see this")

    with nursery.move_on_after(0.05):
        await to_thread.run_sync(stuck, abandon_on_cancel=True)
    assert nursery.testing.active_thread_count() == 1  # still running, abandoned
    release.set()
    await nursery.testing.wait_all_threads_completed()
    assert nursery.testing.active_thread_count() == 0


async def from_a_thread_of_your_own() -> str:
    token = nursery.lowlevel.current_token()  # a thread not started by to_thread needs it
    answers: list[str] = []

    async def greet(name: str) -> str:
        await nursery.sleep(0)
        return f"hello, {name}"

    def own_thread() -> None:
        answers.append(from_thread.run(greet, "thread", token=token))

    thread = threading.Thread(target=own_thread)
    thread.start()
    await to_thread.run_sync(thread.join)  # join without blocking the run
    return answers[0]


async def main() -> nursery.lowlevel.RunToken:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(6):
            path = Path(tmp) / f"file{i}.bin"
            path.write_bytes(bytes([i]) * 100_000)
            paths.append(path)
        single = await hash_one(paths[0])
        digests = await hash_tree(paths)
    assert digests["file0.bin"] == single
    assert len(set(digests.values())) == 6
    await errors_and_contextvars()
    log = await calling_back_into_the_run()
    assert log == ["step 0 of req-7", "step 1 of req-7", "step 2 of req-7", "3 lines saved"]
    await cancellation()
    assert await from_a_thread_of_your_own() == "hello, thread"
    return nursery.lowlevel.current_token()


if __name__ == "__main__":
    token = nursery.run(main)
    try:
        from_thread.run_sync(print, "too late", token=token)
    except nursery.RunFinishedError:
        print("after the run, from_thread raises RunFinishedError")
