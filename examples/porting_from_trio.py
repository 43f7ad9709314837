"""A small Trio-style program, ported by changing its imports.

The Trio original began with ``import trio`` and ``import trio.testing``; everything
below the imports is unchanged except the two renamed functions marked RENAMED.
"""

import nursery as trio  # was: import trio
import nursery.lowlevel  # optional: `import nursery` already imports it, as Trio does
import nursery.testing  # was: import trio.testing


async def worker(
    name: str, results: list[str], *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    task_status.started(f"{name} ready")
    await trio.sleep(0.01)
    results.append(name)


async def main() -> None:
    results: list[str] = []
    async with trio.open_nursery() as nursery_:
        print(await nursery_.start(worker, "first", results))
        nursery_.start_soon(worker, "second", results)
        await trio.testing.wait_all_tasks_blocked()
    assert sorted(results) == ["first", "second"]

    with trio.move_on_after(0.01) as scope:
        await trio.sleep_forever()
    assert scope.cancelled_caught

    try:
        with trio.fail_after(0.01):
            await trio.sleep(1)
    except trio.TooSlowError:
        print("timed out as expected")

    token = trio.lowlevel.current_token()  # RENAMED: was trio.lowlevel.current_trio_token()
    in_run = trio.lowlevel.in_run()  # RENAMED: was trio.lowlevel.in_trio_run()
    print("in a run:", in_run, type(token).__name__)


if __name__ == "__main__":
    trio.run(main)
