"""Instruments: watch a run from inside (here, count every hook call)."""

import logging
import time
from collections import Counter

import nursery
import nursery.lowlevel as ll
from nursery.abc import Instrument


class HookCounter(Instrument):
    """Defines all nine hooks. An instrument only pays for the hooks it defines."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def before_run(self) -> None:
        self.calls["before_run"] += 1

    def after_run(self) -> None:
        self.calls["after_run"] += 1

    def task_spawned(self, task: ll.Task) -> None:
        self.calls["task_spawned"] += 1

    def task_scheduled(self, task: ll.Task) -> None:
        self.calls["task_scheduled"] += 1

    def before_task_step(self, task: ll.Task) -> None:
        self.calls["before_task_step"] += 1

    def after_task_step(self, task: ll.Task) -> None:
        self.calls["after_task_step"] += 1

    def task_exited(self, task: ll.Task) -> None:
        self.calls["task_exited"] += 1

    def before_io_wait(self, timeout: float) -> None:
        self.calls["before_io_wait"] += 1

    def after_io_wait(self, timeout: float) -> None:
        self.calls["after_io_wait"] += 1


class SlowStepDetector(Instrument):
    """Report task steps that hold the loop too long (one hook pair only)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.started: float | None = None
        self.slow: list[str] = []

    def before_task_step(self, task: ll.Task) -> None:
        self.started = ll.current_clock().current_time()

    def after_task_step(self, task: ll.Task) -> None:
        # (None for the step that called add_instrument: it began unwatched.)
        now = ll.current_clock().current_time()
        if self.started is not None and now - self.started > self.limit:
            self.slow.append(task.name)
        self.started = None


class Faulty(Instrument):
    def task_spawned(self, task: ll.Task) -> None:
        raise RuntimeError("bug in an instrument")


def busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def hog() -> None:
    busy_wait(0.02)  # blocks the whole loop: no checkpoint inside
    await nursery.sleep(0)


async def main(detector: SlowStepDetector) -> None:
    ll.add_instrument(detector)  # instruments can also be added during a run
    async with nursery.open_nursery() as n:
        n.start_soon(hog)
        n.start_soon(nursery.sleep, 0.01)
    ll.remove_instrument(detector)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


if __name__ == "__main__":
    counter = HookCounter()
    detector = SlowStepDetector(limit=0.01)
    handler = ListHandler()
    logging.getLogger("nursery").addHandler(handler)

    nursery.run(main, detector, instruments=[counter, Faulty()])

    for hook, count in sorted(counter.calls.items()):
        print(f"{hook:18} {count}")
    assert len(counter.calls) == 9
    print("slow steps:", detector.slow)
    assert "__main__.hog" in detector.slow
    # The faulty instrument was removed at its first error, and the error logged
    # (to the "nursery.abc.Instrument" logger); the run itself went on.
    print("logged:", handler.messages)
    assert len(handler.messages) == 1 and "removed" in handler.messages[0]
