"""Virtual time with MockClock: jump(), rate, autojump_threshold."""

import time

import nursery
import nursery.lowlevel as ll
from nursery.testing import MockClock, wait_all_tasks_blocked


async def retry_with_backoff(attempts: list[float]) -> None:
    delay = 1.0
    for _ in range(5):
        attempts.append(nursery.current_time())
        await nursery.sleep(delay)
        delay *= 2


async def test_jump_by_hand() -> None:
    clock = ll.current_clock()
    assert isinstance(clock, MockClock)
    attempts: list[float] = []
    async with nursery.open_nursery() as n:
        n.start_soon(retry_with_backoff, attempts)
        await wait_all_tasks_blocked()  # the retrier is asleep
        assert attempts == [0.0]  # a MockClock starts at 0
        clock.jump(1.0)  # time moves only when told to...
        await wait_all_tasks_blocked()  # ...and the sleeper wakes up
        assert attempts == [0.0, 1.0]
        n.cancel_scope.cancel()
    print("jump(): attempts at", attempts)


async def test_autojump() -> None:
    # With autojump_threshold=0, whenever every task is blocked the clock jumps
    # straight to the next deadline: an hour of backoff takes no real time.
    attempts: list[float] = []
    await retry_with_backoff(attempts)
    print("autojump: attempts at", attempts, "finished at", nursery.current_time())
    assert attempts == [0.0, 1.0, 3.0, 7.0, 15.0]
    with nursery.move_on_after(3600) as scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught and nursery.current_time() == 3631.0


async def test_rate() -> None:
    start = nursery.current_time()
    await nursery.sleep(1.0)  # 1 virtual second at rate 20 is ~0.05 real seconds
    assert nursery.current_time() - start >= 1.0


if __name__ == "__main__":
    nursery.run(test_jump_by_hand, clock=MockClock())
    real_start = time.perf_counter()
    nursery.run(test_autojump, clock=MockClock(autojump_threshold=0))
    print(f"real time spent: {time.perf_counter() - real_start:.3f}s")
    nursery.run(test_rate, clock=MockClock(rate=20))
    print("rate=20 ran a 1s sleep in about 0.05s")
