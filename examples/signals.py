"""Receiving Unix signals in a task: open_signal_receiver. The script sends the signals
to itself with os.kill, so it runs on its own."""

import os
import signal

import nursery


async def reload_on_sighup() -> list[str]:
    # A daemon's classic: SIGHUP means "reload your configuration", SIGTERM "stop".
    log: list[str] = []
    with nursery.open_signal_receiver(signal.SIGHUP, signal.SIGTERM) as signals:
        os.kill(os.getpid(), signal.SIGHUP)  # as `kill -HUP <pid>` would
        async for signum in signals:
            if signum == signal.SIGHUP:
                log.append("reloading the configuration")
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                log.append("stopping")
                break
    return log


async def repeats_are_merged() -> list[str]:
    with nursery.open_signal_receiver(signal.SIGUSR1, signal.SIGUSR2) as signals:
        # Five signals arrive before the task reads any: each number is kept once,
        # in the order it first arrived.
        for signum in (signal.SIGUSR2, signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1):
            os.kill(os.getpid(), signum)
        os.kill(os.getpid(), signal.SIGUSR2)
        first = await signals.__anext__()
        second = await signals.__anext__()
    return [signal.Signals(first).name, signal.Signals(second).name]


async def handlers_are_put_back() -> None:
    seen: list[int] = []

    def mine(signum: int, frame: object) -> None:
        seen.append(signum)

    original = signal.signal(signal.SIGUSR2, mine)
    try:
        with nursery.open_signal_receiver(signal.SIGUSR1, signal.SIGUSR2) as signals:
            assert signal.getsignal(signal.SIGUSR2) is not mine
            os.kill(os.getpid(), signal.SIGUSR1)
            os.kill(os.getpid(), signal.SIGUSR2)
            assert await signals.__anext__() == signal.SIGUSR1
            # SIGUSR2 arrived but was never read: when the block exits, the handlers
            # that were there before are put back, and SIGUSR2 is raised again for them.
        assert signal.getsignal(signal.SIGUSR2) is mine
        assert seen == [signal.SIGUSR2]
    finally:
        signal.signal(signal.SIGUSR2, original)


async def control_c_as_a_message() -> str:
    # Listening for SIGINT turns Control-C into a message for this task instead of a
    # KeyboardInterrupt, for as long as the block lasts.
    with nursery.open_signal_receiver(signal.SIGINT) as signals:
        os.kill(os.getpid(), signal.SIGINT)  # as Control-C would
        async for _ in signals:
            return "Control-C: shutting down cleanly"
    raise AssertionError("unreachable")


async def main() -> None:
    with nursery.fail_after(5):
        print(await reload_on_sighup())
        merged = await repeats_are_merged()
        assert merged == ["SIGUSR2", "SIGUSR1"], merged
        print("five signals, read as:", merged)
        await handlers_are_put_back()
        print("the previous handler got the unread signal")
        print(await control_c_as_a_message())


if __name__ == "__main__":
    nursery.run(main)
