"""Very deep task trees: 10,000 nested nurseries, one task per level.

Cancellation and errors must cross every level without recursing once per
level in the interpreter, so both tests run at the default recursion limit.
(Trio itself does not pass the error test.)
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

import nursery
from nursery.testing import wait_all_tasks_blocked

DEPTH = 10_000
DEFAULT_RECURSION_LIMIT = 1000


class LeafError(Exception):
    pass


async def level(depth: int, leaf: Callable[[], Awaitable[object]]) -> None:
    """Open a nursery and start the next level in it; the last level runs leaf."""
    async with nursery.open_nursery() as n:
        if depth == 0:
            await leaf()
        else:
            n.start_soon(level, depth - 1, leaf)


def leaves(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside exc, found without recursion."""
    found: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        else:
            found.append(e)
    return found


def group_depth(exc: BaseException) -> int:
    depth = 0
    while isinstance(exc, BaseExceptionGroup):
        depth += 1
        exc = exc.exceptions[0]
    return depth


def test_recursion_limit_is_the_default() -> None:
    # The tests below prove something only at the default limit.
    assert sys.getrecursionlimit() == DEFAULT_RECURSION_LIMIT


def test_cancelling_the_root_of_a_deep_tree_cancels_cleanly() -> None:
    leaf_log: list[str] = []

    async def leaf() -> None:
        leaf_log.append("reached")
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            leaf_log.append("cancelled")
            raise

    async def main() -> str:
        async with nursery.open_nursery() as root:
            root.start_soon(level, DEPTH, leaf)
            await wait_all_tasks_blocked()
            assert leaf_log == ["reached"]
            root.cancel_scope.cancel()
        assert root.cancel_scope.cancelled_caught
        return "cancelled cleanly"

    assert nursery.run(main) == "cancelled cleanly"
    assert leaf_log == ["reached", "cancelled"]


def test_leaf_error_reaches_the_caller_of_run() -> None:
    async def leaf() -> None:
        await nursery.sleep(0)
        raise LeafError("from the deepest task")

    async def main() -> None:
        await level(DEPTH, leaf)

    try:
        nursery.run(main)
    except BaseException as exc:
        caught: BaseException = exc
    else:  # pragma: no cover
        raise AssertionError("run() returned normally")
    found = leaves(caught)
    assert [type(e) for e in found] == [LeafError]
    assert str(found[0]) == "from the deepest task"
    # Each level's nursery adds its group around the one below.
    assert group_depth(caught) == DEPTH + 1
