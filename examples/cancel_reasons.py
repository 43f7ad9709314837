"""Where did this Cancelled come from? Its source, reason and source_task."""

import nursery


async def report(log: list[nursery.Cancelled]) -> None:
    """Sleep until cancelled, and record the Cancelled we got."""
    try:
        await nursery.sleep_forever()
    except nursery.Cancelled as exc:
        log.append(exc)
        raise


async def crash() -> None:
    await nursery.sleep(0.01)
    raise ValueError("disk full")


async def main() -> None:
    log: list[nursery.Cancelled] = []

    # cancel(reason=...): source "explicit", with the reason and the cancelling task.
    async with nursery.open_nursery() as n:
        n.start_soon(report, log)
        await nursery.sleep(0.01)
        n.cancel_scope.cancel(reason="user pressed stop")

    # A deadline: source "deadline", no task to blame.
    with nursery.move_on_after(0.01):
        await report(log)

    # A sibling crashed: source "nursery", the reason names the error and the task.
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(report, log)
            n.start_soon(crash)
    except* ValueError:
        pass

    for exc in log:
        print(f"source={exc.source!r}\n  reason={exc.reason!r}\n  task={exc.source_task!r}")
        print(f"  str: {exc}")

    explicit, deadline, sibling = log
    assert explicit.source == "explicit" and explicit.reason == "user pressed stop"
    assert explicit.source_task is not None and "main" in explicit.source_task
    assert deadline.source == "deadline" and deadline.source_task is None
    assert sibling.source == "nursery" and "disk full" in (sibling.reason or "")
    assert sibling.source_task is not None and "crash" in sibling.source_task

    # Cancelled cannot be constructed by user code: cancel a scope instead.
    try:
        nursery.Cancelled()
    except TypeError:
        print("Cancelled() is refused")


if __name__ == "__main__":
    nursery.run(main)
