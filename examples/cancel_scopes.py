"""Cancel scopes: cancel(), level-triggered cancellation, shields, which scope catches."""

import nursery


async def main() -> None:
    # cancel() marks the scope; the code inside gets Cancelled at its next
    # checkpoint, and the scope catches it when the exception reaches it.
    with nursery.CancelScope() as scope:
        scope.cancel()
        print("cancel() does not raise by itself")
        await nursery.sleep(1)  # raises Cancelled at once
        raise AssertionError("not reached")
    print("cancel_called:", scope.cancel_called, "cancelled_caught:", scope.cancelled_caught)
    assert scope.cancel_called and scope.cancelled_caught

    # Cancelled after the last checkpoint: nothing is interrupted, so cancel_called
    # is true but cancelled_caught stays false.
    with nursery.CancelScope() as late:
        await nursery.sleep(0)
        late.cancel()
    assert late.cancel_called and not late.cancelled_caught

    # Level-triggered: while the scope is cancelled, *every* checkpoint inside it
    # raises, not just the first one. Swallowing Cancelled does not undo it.
    raised = 0
    with nursery.CancelScope() as scope:
        scope.cancel()
        for _ in range(3):
            try:
                await nursery.sleep(0)
            except nursery.Cancelled:
                raised += 1  # (don't do this in real code: let it propagate)
    print("checkpoints that raised:", raised)
    assert raised == 3

    # A scope may be cancelled before it is entered; it is then cancelled from
    # its first line. Each scope is good for exactly one 'with' block.
    scope = nursery.CancelScope()
    scope.cancel()
    with scope:
        await nursery.sleep(1)
    assert scope.cancelled_caught
    try:
        with scope:
            pass
    except RuntimeError as exc:
        print("reusing a scope:", exc)

    # When several enclosing scopes are cancelled, the outermost one catches the
    # Cancelled: the inner one lets it through, since its parent is cancelled too.
    with nursery.CancelScope() as outer:
        with nursery.CancelScope() as inner:
            inner.cancel()
            outer.cancel()
            await nursery.sleep(0)
        raise AssertionError("not reached: the outer scope is cancelled too")
    print("outer caught:", outer.cancelled_caught, "inner caught:", inner.cancelled_caught)
    assert outer.cancelled_caught and not inner.cancelled_caught

    # A shield hides cancellations from outside: clean-up that must finish can
    # still await. Cancelling the shielded scope itself still works.
    log = []
    with nursery.CancelScope() as outer:
        outer.cancel()
        with nursery.CancelScope(shield=True):
            await nursery.sleep(0.01)
            log.append("shielded sleep finished")
        await nursery.sleep(0)  # back outside the shield: raises
        log.append("not reached")
    print(log)
    assert log == ["shielded sleep finished"] and outer.cancelled_caught

    # shield (like deadline) can be changed while the scope is active.
    with nursery.CancelScope() as outer, nursery.CancelScope(shield=True) as inner:
        outer.cancel()
        await nursery.sleep(0)  # fine: shielded
        inner.shield = False
        await nursery.sleep(0)  # raises now
    assert outer.cancelled_caught

    # A nursery's cancel_scope cancels the body and every child at once.
    async with nursery.open_nursery() as n:
        for _ in range(3):
            n.start_soon(nursery.sleep_forever)
        await nursery.sleep(0.01)
        n.cancel_scope.cancel()
    print("nursery cancelled, children done:", n.cancel_scope.cancelled_caught)


if __name__ == "__main__":
    nursery.run(main)
