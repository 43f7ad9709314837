"""A one-shot Event built from wait_task_rescheduled, Abort and reschedule."""

import nursery
import nursery.lowlevel as ll
from nursery.testing import wait_all_tasks_blocked


class OneShotEvent:
    def __init__(self) -> None:
        self._is_set = False
        self._waiters: dict[ll.Task, None] = {}  # insertion-ordered set

    def set(self) -> None:
        """Wake every waiter. Synchronous: never a checkpoint."""
        self._is_set = True
        waiters, self._waiters = self._waiters, {}
        for task in waiters:
            ll.reschedule(task)  # wait_task_rescheduled() in that task returns None

    async def wait(self) -> None:
        if self._is_set:
            await ll.checkpoint()  # the fast path must be a checkpoint too
            return
        task = ll.current_task()
        self._waiters[task] = None

        def abort(raise_cancel: ll.RaiseCancelT) -> ll.Abort:
            # Called if the task is cancelled while asleep: undo the registration
            # so that set() will not reschedule it, and let the kernel wake it with
            # Cancelled.
            del self._waiters[task]
            return ll.Abort.SUCCEEDED

        await ll.wait_task_rescheduled(abort)


async def waiter(event: OneShotEvent, name: str, log: list[str]) -> None:
    await event.wait()
    log.append(f"{name} woke")


async def main() -> None:
    event = OneShotEvent()
    log: list[str] = []
    async with nursery.open_nursery() as n:
        n.start_soon(waiter, event, "a", log)
        n.start_soon(waiter, event, "b", log)
        await wait_all_tasks_blocked()  # both are asleep in wait()
        assert log == []
        event.set()
    print(sorted(log))
    assert sorted(log) == ["a woke", "b woke"]

    # Cancelling a waiter runs its abort function.
    other = OneShotEvent()
    with nursery.move_on_after(0.01) as scope:
        await other.wait()
    assert scope.cancelled_caught and not other._waiters
    print("cancelled waiter left the event cleanly")

    # reschedule() can also deliver a value or an error (an outcome.Outcome).
    import outcome

    me = ll.current_task()
    ll.current_token().run_sync_soon(ll.reschedule, me, outcome.Value(42))
    # Abort.FAILED: this wait cannot be undone, so cancellation must wait for
    # the reschedule() that is already on its way.
    value = await ll.wait_task_rescheduled(lambda raise_cancel: ll.Abort.FAILED)
    print("woken with", value)
    assert value == 42


if __name__ == "__main__":
    nursery.run(main)
