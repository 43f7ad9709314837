"""Calling into a run from another thread or a signal handler: RunToken.run_sync_soon."""

import os
import signal
import threading

import nursery
import nursery.lowlevel as ll


async def main() -> ll.RunToken:
    token = ll.current_token()  # a RunToken: safe to hand to other threads
    arrived = ll.ParkingLot()
    results: list[str] = []

    def deliver(result: str) -> None:
        # Runs inside the run, in a system task: may touch run state, but must
        # not block and must not raise (an exception ends the run with
        # InternalError).
        results.append(result)
        arrived.unpark_all()

    def worker() -> None:
        total = sum(range(1_000_000))  # blocking work, off the loop
        token.run_sync_soon(deliver, f"thread computed {total}")

    thread = threading.Thread(target=worker)
    thread.start()
    await arrived.park()  # the loop sleeps in epoll; the token's write wakes it
    thread.join()
    print(results[-1])

    # A signal handler may call run_sync_soon too (it never blocks on the run).
    def on_signal(signum: int, frame: object) -> None:
        token.run_sync_soon(deliver, f"got signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        with nursery.fail_after(5):
            await arrived.park()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    print(results[-1])

    # idempotent=True coalesces identical pending calls: this runs once.
    for _ in range(3):
        token.run_sync_soon(deliver, "idempotent call", idempotent=True)
    await arrived.park()
    await nursery.sleep(0.01)
    assert results.count("idempotent call") == 1
    return token


if __name__ == "__main__":
    token = nursery.run(main)
    # Once the run is over, the token refuses new work.
    try:
        token.run_sync_soon(print, "too late")
    except nursery.RunFinishedError as exc:
        print("after the run:", exc)
