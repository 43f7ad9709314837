"""RunVar (one value per run) and spawn_system_task (a task outside the main tree)."""

import nursery
import nursery.lowlevel as ll

# A library keeps per-run state in a RunVar: here, a background "pool" that is
# started on first use and lives until the run ends.
_pool = ll.RunVar[list[str]]("_pool")


async def _pool_task(log: list[str]) -> None:
    log.append("pool started")
    try:
        await nursery.sleep_forever()
    finally:
        # System tasks are cancelled once the main task has finished.
        log.append("pool stopped")


def get_pool(log: list[str]) -> list[str]:
    try:
        return _pool.get()
    except LookupError:
        pool: list[str] = []
        _pool.set(pool)
        task = ll.spawn_system_task(_pool_task, log, name="pool")
        # It lives in the run's system nursery, not under the task that asked.
        assert task.parent_nursery is not None
        assert task.parent_nursery.parent_task is ll.current_root_task()
        return pool


async def main(log: list[str]) -> None:
    first = get_pool(log)
    second = get_pool(log)
    assert first is second  # one per run, whichever task asks
    await nursery.sleep(0.01)
    log.append("main done")


async def crashing_system_task() -> None:
    raise ValueError("a system task must not fail")


async def main_with_crash() -> None:
    ll.spawn_system_task(crashing_system_task)
    await nursery.sleep(1)


if __name__ == "__main__":
    log: list[str] = []
    nursery.run(main, log)
    print(log)
    assert log[0] == "pool started" and log[-1] == "pool stopped"

    # A fresh run has a fresh RunVar value: the pool starts again.
    log.clear()
    nursery.run(main, log)
    assert log.count("pool started") == 1

    # An exception escaping a system task ends the run with InternalError.
    try:
        nursery.run(main_with_crash)
    except nursery.InternalError as exc:
        print(f"{exc} (cause: {exc.__cause__!r})")
