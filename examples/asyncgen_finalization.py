"""Async generators abandoned mid-iteration are closed inside the run."""

import gc
from collections.abc import AsyncGenerator

import nursery
import nursery.lowlevel as ll

log: list[str] = []
still_alive: AsyncGenerator[int, None] | None = None


async def numbers(label: str) -> AsyncGenerator[int, None]:
    try:
        for i in range(1_000):
            await nursery.sleep(0)
            yield i
    finally:
        # Clean-up may await: it runs in a task of the run, not in __del__.
        await nursery.sleep(0)
        log.append(f"{label} closed by task {ll.current_task().name!r}")


async def main() -> None:
    # Abandoned after a break and then garbage-collected: closed soon after, in
    # a system task made for it.
    gen = numbers("dropped")
    async for i in gen:
        if i == 2:
            break
    del gen
    gc.collect()
    await nursery.sleep(0.01)
    assert len(log) == 1

    # Still referenced when the main task returns: closed before run() returns.
    global still_alive
    still_alive = numbers("kept")
    await still_alive.__anext__()

    # Best practice is still to close generators explicitly:
    gen = numbers("explicit")
    await gen.__anext__()
    await gen.aclose()


if __name__ == "__main__":
    nursery.run(main)
    print("\n".join(log))
    assert [entry.split()[0] for entry in log] == ["dropped", "explicit", "kept"]
