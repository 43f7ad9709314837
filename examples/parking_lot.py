"""A FIFO lock on a ParkingLot, broken for its waiters if the holder exits holding it."""

import nursery
import nursery.lowlevel as ll
from nursery.testing import wait_all_tasks_blocked


class SimpleLock:
    def __init__(self) -> None:
        self._lot = ll.ParkingLot()
        self._owner: ll.Task | None = None

    async def acquire(self) -> None:
        task = ll.current_task()
        if self._owner is None:
            await ll.checkpoint()
        else:
            await self._lot.park()  # woken by release(), already the owner
        if self._owner is None:
            self._owner = task
        assert self._owner is task
        # If the owner exits without releasing, break the lot: its waiters get
        # BrokenResourceError instead of sleeping forever.
        ll.add_parking_lot_breaker(task, self._lot)

    def release(self) -> None:
        task = ll.current_task()
        assert self._owner is task
        ll.remove_parking_lot_breaker(task, self._lot)
        woken = self._lot.unpark()  # the longest waiter, if any
        self._owner = woken[0] if woken else None


async def worker(lock: SimpleLock, name: str, log: list[str]) -> None:
    await lock.acquire()
    log.append(name)
    await nursery.sleep(0.001)
    lock.release()


async def forgetful(lock: SimpleLock) -> None:
    await lock.acquire()
    await nursery.sleep(0.01)
    # returns without release()


async def main() -> None:
    lock = SimpleLock()
    log: list[str] = []
    await lock.acquire()
    async with nursery.open_nursery() as n:
        for name in "abc":
            n.start_soon(worker, lock, name, log)
            await wait_all_tasks_blocked()  # make the arrival order a, b, c
        print("waiting:", lock._lot.statistics().tasks_waiting)
        lock.release()
    print("FIFO order:", log)
    assert log == ["a", "b", "c"]

    broken = SimpleLock()
    async with nursery.open_nursery() as n:
        n.start_soon(forgetful, broken)
        await wait_all_tasks_blocked()  # forgetful holds the lock now
        try:
            await broken.acquire()
        except nursery.BrokenResourceError as exc:
            print("waiter got:", exc)
        else:
            raise AssertionError("the lock should be broken")


if __name__ == "__main__":
    nursery.run(main)
