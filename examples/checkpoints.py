"""Checkpoints: where other tasks may run and where cancellation is delivered."""

import nursery
import nursery.lowlevel
from nursery.testing import assert_checkpoints, assert_no_checkpoints


class Cache:
    """A cache whose lookup awaits only on a miss."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def get(self, key: str) -> str:
        if key in self.data:
            # Every async function of a library should be a checkpoint, hit or
            # miss, so that a loop over cache hits can still be cancelled and
            # still lets other tasks run. One line makes the fast path one:
            await nursery.lowlevel.checkpoint()
            return self.data[key]
        await nursery.sleep(0.001)  # pretend to fetch
        self.data[key] = key.upper()
        return self.data[key]


async def spin(log: list[str]) -> None:
    """A loop with no checkpoint never lets anyone else run."""
    for i in range(3):
        log.append(f"spin {i}")


async def polite(log: list[str]) -> None:
    for i in range(3):
        log.append(f"polite {i}")
        await nursery.lowlevel.checkpoint()


async def main() -> None:
    cache = Cache()
    with assert_checkpoints():
        await cache.get("a")  # miss
    with assert_checkpoints():
        await cache.get("a")  # hit: still a checkpoint

    # Synchronous code is never a checkpoint.
    with assert_no_checkpoints():
        cache.data.clear()

    # A schedule point lets other tasks run; without one a task runs alone.
    log: list[str] = []
    async with nursery.open_nursery() as n:
        n.start_soon(spin, log)
        n.start_soon(polite, log)
    print(log)
    spins = [i for i, entry in enumerate(log) if entry.startswith("spin")]
    assert spins == list(range(spins[0], spins[0] + 3))  # never interleaved

    # A cancel point raises Cancelled inside a cancelled scope.
    with nursery.CancelScope() as scope:
        scope.cancel()
        with assert_no_checkpoints():
            scope.cancel()  # (cancel() itself is not a checkpoint)
        await cache.get("b")
    assert scope.cancelled_caught

    # checkpoint_if_cancelled(): a cancel point, but a schedule point only when it
    # raises. Cheap; useful in a hot path that must stay cancellable.
    await nursery.lowlevel.checkpoint_if_cancelled()  # does nothing here
    with nursery.CancelScope() as scope:
        scope.cancel()
        await nursery.lowlevel.checkpoint_if_cancelled()  # raises Cancelled
    assert scope.cancelled_caught

    # cancel_shielded_checkpoint(): a schedule point that never raises Cancelled.
    with nursery.CancelScope() as scope:
        scope.cancel()
        await nursery.lowlevel.cancel_shielded_checkpoint()
    assert not scope.cancelled_caught

    # The assertions report which half of a checkpoint is missing.
    try:
        with assert_checkpoints():
            await nursery.lowlevel.cancel_shielded_checkpoint()
    except AssertionError as exc:
        print("assert_checkpoints:", exc)
    print("checkpoint examples passed")


if __name__ == "__main__":
    nursery.run(main)
