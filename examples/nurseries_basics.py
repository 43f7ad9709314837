"""Tasks and nurseries: start_soon, the body as a child, task names, contextvars."""

import contextvars

import nursery
import nursery.lowlevel

request_id = contextvars.ContextVar("request_id", default="-")


async def fetch(name: str, delay: float, results: dict[str, str]) -> None:
    # Each child starts with a copy of the context of the task that called start_soon.
    seen = request_id.get()
    request_id.set(f"changed by {name}")  # only this child's copy changes
    await nursery.sleep(delay)
    results[name] = f"done after {delay}s (request {seen})"


async def main() -> None:
    request_id.set("r-42")
    results: dict[str, str] = {}

    async with nursery.open_nursery() as n:
        n.start_soon(fetch, "fast", 0.01, results)
        n.start_soon(fetch, "slow", 0.05, results, name="the slow one")

        # start_soon is not a checkpoint: the children exist but have not run yet.
        names = sorted(task.name for task in n.child_tasks)
        print("children:", names)
        assert names == ["__main__.fetch", "the slow one"]
        assert n.parent_task is nursery.lowlevel.current_task()

        # The body is one more child: the block ends when the body *and* every
        # child task are done.
        await nursery.sleep(0.02)
        print("body finished first; 'fast' already done:", "fast" in results)

    # Here, every child has finished.
    for name, result in sorted(results.items()):
        print(f"{name}: {result}")
    assert set(results) == {"fast", "slow"}
    assert "r-42" in results["slow"]
    # The children's request_id.set() did not leak back into the parent.
    assert request_id.get() == "r-42"


if __name__ == "__main__":
    nursery.run(main)
