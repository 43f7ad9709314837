"""Errors in a nursery: siblings are cancelled and the errors arrive in a group."""

import nursery


async def fail_after_a_while(delay: float, exc: Exception) -> None:
    await nursery.sleep(delay)
    raise exc


async def wait_forever(log: list[str]) -> None:
    try:
        await nursery.sleep_forever()
    except nursery.Cancelled:
        log.append("sibling cancelled")
        raise  # always let Cancelled propagate


async def main() -> None:
    log: list[str] = []

    # One failing child: the nursery cancels the others, waits for them, then
    # raises an ExceptionGroup (strict by default, even for a single error).
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(wait_forever, log)
            n.start_soon(fail_after_a_while, 0.01, ValueError("bad value"))
    except* ValueError as group:
        print("caught:", repr(group))
        assert [str(e) for e in group.exceptions] == ["bad value"]
    assert log == ["sibling cancelled"]

    # Two children failing at the same time: both errors are kept.
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(fail_after_a_while, 0.01, KeyError("k"))
            n.start_soon(fail_after_a_while, 0.01, OSError("io"))
    except* KeyError:
        print("handled the KeyError")
    except* OSError:
        print("handled the OSError")

    # An error in the body counts like a child's error: it cancels the children.
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(wait_forever, log)
            await nursery.sleep(0.01)
            raise RuntimeError("from the body")
    except* RuntimeError as group:
        print("body error:", repr(group.exceptions[0]))
    assert log == ["sibling cancelled"] * 2

    # With strict_exception_groups=False a lone error is raised unwrapped. Not
    # recommended: an 'except ValueError' breaks the day two errors happen at once.
    try:
        async with nursery.open_nursery(strict_exception_groups=False) as n:
            n.start_soon(fail_after_a_while, 0, ValueError("alone"))
    except ValueError as exc:
        print("loose nursery raised:", repr(exc))


if __name__ == "__main__":
    nursery.run(main)
    # The run-wide default can be changed too (also not recommended):
    # nursery.run(main, strict_exception_groups=False)
