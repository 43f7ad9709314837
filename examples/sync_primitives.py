"""The synchronization primitives: Event, Lock, Semaphore, CapacityLimiter, Condition."""

import math

import nursery

# -- Event: "it has happened" -------------------------------------------------------


async def event_demo() -> list[str]:
    log: list[str] = []
    config_loaded = nursery.Event()

    async def worker(name: str) -> None:
        await config_loaded.wait()  # returns at once if the event is already set
        log.append(f"{name} starts")

    async with nursery.open_nursery() as n:
        n.start_soon(worker, "w1")
        n.start_soon(worker, "w2")
        await nursery.sleep(0.01)  # ... load the configuration ...
        log.append("config loaded")
        config_loaded.set()  # wakes every waiter; an Event never un-sets
    return log


# -- Lock: one task at a time in a critical section ----------------------------------


class Account:
    def __init__(self) -> None:
        self.balance = 100
        self.lock = nursery.Lock()

    async def withdraw(self, amount: int) -> bool:
        # Read, await, write: without the lock, two withdrawals could both see the
        # old balance across the await and overdraw the account.
        async with self.lock:
            balance = self.balance
            await nursery.sleep(0.001)  # ask the bank's fraud check, say
            if balance < amount:
                return False
            self.balance = balance - amount
            return True


async def lock_demo() -> None:
    account = Account()
    results: list[bool] = []

    async def withdraw(amount: int) -> None:
        results.append(await account.withdraw(amount))

    async with nursery.open_nursery() as n:
        for _ in range(3):
            n.start_soon(withdraw, 60)
    print("withdrawals:", results, "balance:", account.balance)
    assert sorted(results) == [False, False, True] and account.balance == 40


async def fairness_demo() -> list[str]:
    # Waiters get the lock in the order they asked for it, and release() hands it
    # straight to the next one, so a task looping on the lock cannot starve others.
    lock = nursery.Lock()
    turns: list[str] = []

    async def greedy(name: str) -> None:
        for _ in range(3):
            async with lock:
                turns.append(name)
                await nursery.sleep(0)

    async with nursery.open_nursery() as n:
        for name in "abc":
            n.start_soon(greedy, name)
    return turns


async def broken_lock_demo() -> str:
    # A task that exits while holding a lock breaks it: instead of waiting forever,
    # waiters get BrokenResourceError.
    lock = nursery.Lock()

    async def forgetful(task_status: nursery.TaskStatus[None]) -> None:
        await lock.acquire()
        task_status.started()
        await nursery.sleep(0.001)
        # ...and returns without lock.release()

    async with nursery.open_nursery() as n:
        await n.start(forgetful)
        try:
            await lock.acquire()
        except nursery.BrokenResourceError:
            return "the waiter got BrokenResourceError"
    raise AssertionError("the lock should be broken")


# -- Semaphore: counted permits ------------------------------------------------------


async def semaphore_demo() -> int:
    slots = nursery.Semaphore(2)  # at most two downloads at once
    running = most = 0

    async def download(url: str) -> None:
        nonlocal running, most
        async with slots:
            running += 1
            most = max(most, running)
            await nursery.sleep(0.001)
            running -= 1

    async with nursery.open_nursery() as n:
        for i in range(6):
            n.start_soon(download, f"https://example.com/{i}")

    bounded = nursery.Semaphore(1, max_value=1)
    try:
        bounded.release()  # one release too many
    except ValueError as exc:
        print("bounded semaphore:", exc)
    return most


# -- CapacityLimiter: at most N borrowers, each holding one token --------------------


async def limiter_demo() -> None:
    limiter = nursery.CapacityLimiter(2)
    done = nursery.Event()

    async def job() -> None:
        async with limiter:  # the borrower is the current task
            await done.wait()

    async with nursery.open_nursery() as n:
        for _ in range(5):
            n.start_soon(job)
        await nursery.sleep(0.001)
        stats = limiter.statistics()
        print(f"{stats.borrowed_tokens} borrowed, {stats.tasks_waiting} waiting")
        assert (stats.borrowed_tokens, stats.tasks_waiting) == (2, 3)

        limiter.total_tokens = 4  # raising the limit lets waiters in at once
        assert limiter.borrowed_tokens == 4

        # Tokens can be held on behalf of anything hashable: a thread, a connection.
        limiter.total_tokens = math.inf
        await limiter.acquire_on_behalf_of("worker thread")
        assert "worker thread" in limiter.statistics().borrowers
        limiter.release_on_behalf_of("worker thread")
        done.set()
    assert limiter.borrowed_tokens == 0


# -- Condition: wait, with the lock released, until another task says so -------------


async def condition_demo() -> list[int]:
    queue: list[int] = []
    not_empty = nursery.Condition()
    consumed: list[int] = []

    async def consumer() -> None:
        async with not_empty:
            while len(consumed) < 3:
                while not queue:
                    # Releases the lock while asleep, holds it again on return.
                    await not_empty.wait()
                consumed.append(queue.pop(0))

    async def producer() -> None:
        for item in range(3):
            await nursery.sleep(0.001)
            async with not_empty:
                queue.append(item)
                not_empty.notify()  # wake one waiter (notify_all() wakes them all)

    async with nursery.open_nursery() as n:
        n.start_soon(consumer)
        n.start_soon(producer)
    return consumed


async def condition_cancel_demo() -> None:
    condition = nursery.Condition()
    async with condition:
        with nursery.move_on_after(0.01) as scope:
            await condition.wait()  # nobody notifies: the timeout cancels it
        # Even when cancelled, wait() takes the lock back before raising, so this
        # block still holds the lock it is about to release.
        assert scope.cancelled_caught and condition.locked()


async def main() -> None:
    print("event:", await event_demo())
    await lock_demo()
    turns = await fairness_demo()
    print("turns:", turns)
    assert turns[3:] == turns[:3] * 2  # round robin
    print(await broken_lock_demo())
    most = await semaphore_demo()
    print("downloads at once:", most)
    assert most == 2
    await limiter_demo()
    consumed = await condition_demo()
    print("consumed:", consumed)
    assert consumed == [0, 1, 2]
    await condition_cancel_demo()


if __name__ == "__main__":
    nursery.run(main)
