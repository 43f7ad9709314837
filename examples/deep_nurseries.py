"""A chain of nested nurseries far deeper than the recursion limit.

Each level opens a nursery and starts the next level inside it. Cancelling the
top, or an error at the bottom, must cross every level; nursery walks such trees
iteratively, so this works at Python's default recursion limit (1000).

    python examples/deep_nurseries.py          # 5,000 levels
    python examples/deep_nurseries.py 10000    # 10,000 levels
"""

import sys
from collections.abc import Awaitable, Callable

import nursery
from nursery.testing import wait_all_tasks_blocked

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000


class LeafError(Exception):
    pass


async def level(depth: int, leaf_fn: Callable[[], Awaitable[object]]) -> None:
    async with nursery.open_nursery() as n:
        if depth == 0:
            await leaf_fn()
        else:
            n.start_soon(level, depth - 1, leaf_fn)


async def raise_leaf_error() -> None:
    await nursery.sleep(0)
    raise LeafError("from the bottom of the tree")


async def cancel_the_top() -> str:
    async with nursery.open_nursery() as top:
        top.start_soon(level, DEPTH, nursery.sleep_forever)
        await wait_all_tasks_blocked()  # the whole chain is built and asleep
        top.cancel_scope.cancel()
    assert top.cancel_scope.cancelled_caught
    return "cancelled"


def group_depth(exc: BaseException) -> tuple[int, BaseException]:
    depth = 0
    while isinstance(exc, BaseExceptionGroup):
        depth += 1
        exc = exc.exceptions[0]
    return depth, exc


def main() -> None:
    print(f"{DEPTH} levels, recursion limit {sys.getrecursionlimit()}")
    print("cancelling the top:", nursery.run(cancel_the_top))

    try:
        nursery.run(level, DEPTH, raise_leaf_error)
    except BaseExceptionGroup as group:
        depth, leaf = group_depth(group)
        # One group per nursery on the way up (the chain has DEPTH + 1 of them).
        print(f"error from the leaf: {leaf!r}, wrapped {depth} groups deep")
        assert isinstance(leaf, LeafError) and depth == DEPTH + 1
    else:
        raise AssertionError("the error was lost")


if __name__ == "__main__":
    main()
