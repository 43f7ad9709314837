"""The scheduler's seeded order: replay a run's interleaving with random_seed."""

import os

import nursery
import nursery.lowlevel as ll


async def worker(name: str, log: list[str]) -> None:
    for _ in range(3):
        log.append(name)
        await nursery.sleep(0)


async def main() -> tuple[str, int]:
    log: list[str] = []
    async with nursery.open_nursery() as n:
        for name in "abc":
            n.start_soon(worker, name, log)
    # The seed of this run, whether chosen by us or at random:
    return "".join(log), ll.current_statistics().seed


if __name__ == "__main__":
    # Tasks that become runnable together run in one batch; the order inside a
    # batch is picked by a random generator seeded per run.
    for seed in (1, 2, 3):
        order, used = nursery.run(main, random_seed=seed)
        print(f"random_seed={seed}: {order}")
        assert used == seed
        # Same seed, same interleaving.
        assert nursery.run(main, random_seed=seed)[0] == order

    # Without random_seed the seed is random (or NURSERY_SEED, if set), and a
    # failing run can be replayed from current_statistics().seed.
    order, seed = nursery.run(main)
    print(f"unseeded run used seed {seed}: {order}")
    assert nursery.run(main, random_seed=seed)[0] == order

    os.environ["NURSERY_SEED"] = "2"
    assert nursery.run(main) == nursery.run(main, random_seed=2)
    print("NURSERY_SEED=2 gives the same run as random_seed=2")
