"""Timeouts: move_on_*, fail_*, deadlines you can move, and the effective deadline."""

import math

import nursery


async def main() -> None:
    # move_on_after: give up quietly and carry on after the block.
    with nursery.move_on_after(0.01) as scope:
        await nursery.sleep(10)
    print("move_on_after timed out:", scope.cancelled_caught)
    assert scope.cancelled_caught

    # It is a CancelScope: when nothing timed out, cancelled_caught is false.
    with nursery.move_on_after(10) as scope:
        await nursery.sleep(0.001)
    assert not scope.cancelled_caught

    # fail_after: the same, but raise TooSlowError.
    try:
        with nursery.fail_after(0.01):
            await nursery.sleep_forever()
    except nursery.TooSlowError:
        print("fail_after raised TooSlowError")

    # The *_at forms take an absolute time on the run's clock. The clock is not
    # time.time(): always compute deadlines from nursery.current_time().
    deadline = nursery.current_time() + 0.01
    with nursery.move_on_at(deadline) as scope:
        await nursery.sleep_until(deadline + 10)
    assert scope.cancelled_caught
    try:
        with nursery.fail_at(nursery.current_time() + 0.01):
            await nursery.sleep(10)
    except nursery.TooSlowError:
        print("fail_at raised TooSlowError")

    # The deadline applying here is the earliest of the enclosing scopes', up to
    # the first shield; inf when there is none, -inf when already cancelled.
    assert nursery.current_effective_deadline() == math.inf
    now = nursery.current_time()
    with nursery.CancelScope(deadline=now + 60):
        with nursery.CancelScope(deadline=now + 30) as inner:
            print("effective deadline in", nursery.current_effective_deadline() - now, "s")
            assert nursery.current_effective_deadline() == now + 30
            # Deadlines can be moved while the scope is active...
            inner.deadline = now + 90
            assert nursery.current_effective_deadline() == now + 60
            # ...also relative to now:
            inner.relative_deadline = 0.01
            await nursery.sleep(10)
        assert inner.cancelled_caught
        with nursery.CancelScope(shield=True):
            assert nursery.current_effective_deadline() == math.inf
        with nursery.CancelScope() as cancelled:
            cancelled.cancel()
            assert nursery.current_effective_deadline() == -math.inf

    # A relative deadline counts from when the scope is *entered*, not created.
    scope = nursery.CancelScope(relative_deadline=0.05)
    await nursery.sleep(0.06)
    entered_at = nursery.current_time()
    with scope:
        assert scope.deadline >= entered_at + 0.05
        print("relative deadline fixed on entry:", round(scope.relative_deadline, 2), "s left")

    # sleep(0) is a bare checkpoint; sleep_until a past time returns at once (but
    # is still a checkpoint); sleep_forever only ends by cancellation.
    await nursery.sleep(0)
    await nursery.sleep_until(nursery.current_time() - 1)
    with nursery.move_on_after(0.01):
        await nursery.sleep_forever()
    print("all timeouts behaved")


if __name__ == "__main__":
    nursery.run(main)
