"""Sequencer: force an exact interleaving of two tasks in a test."""

import nursery
from nursery.testing import Sequencer


async def main(verbose: bool) -> None:
    seq = Sequencer()
    log: list[str] = []

    async def producer() -> None:
        async with seq(0):
            log.append("produce 1")
        async with seq(2):
            log.append("produce 2")

    async def consumer() -> None:
        async with seq(1):
            log.append("consume 1")
        async with seq(3):
            log.append("consume 2")

    async with nursery.open_nursery() as n:
        # Whatever order the scheduler picks, the blocks run 0, 1, 2, 3.
        n.start_soon(consumer)
        n.start_soon(producer)
    if verbose:
        print(log)
    assert log == ["produce 1", "consume 1", "produce 2", "consume 2"]

    # A task cancelled while waiting for its turn breaks the sequencer: later
    # users get RuntimeError instead of waiting forever.
    seq = Sequencer()
    with nursery.move_on_after(0.01):
        try:
            async with seq(5):  # 4 never comes
                pass
        except RuntimeError as exc:
            if verbose:
                print("cancelled waiter:", exc)
    try:
        async with seq(0):
            pass
    except RuntimeError as exc:
        if verbose:
            print("afterwards:", exc)


if __name__ == "__main__":
    # Same result under several scheduling orders.
    for seed in range(5):
        nursery.run(main, seed == 0, random_seed=seed)
