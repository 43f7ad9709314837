"""Instruments: the nine hooks, adding/removing during a run, failing hooks."""

from __future__ import annotations

import logging

import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import Task, add_instrument, current_task, remove_instrument

HOOKS = (
    "before_run",
    "after_run",
    "task_spawned",
    "task_scheduled",
    "before_task_step",
    "after_task_step",
    "task_exited",
    "before_io_wait",
    "after_io_wait",
)


class Recorder(Instrument):
    """Records every hook call as (hook name, argument or None)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def before_run(self) -> None:
        self.events.append(("before_run", None))

    def after_run(self) -> None:
        self.events.append(("after_run", None))

    def task_spawned(self, task: Task) -> None:
        self.events.append(("task_spawned", task))

    def task_scheduled(self, task: Task) -> None:
        self.events.append(("task_scheduled", task))

    def before_task_step(self, task: Task) -> None:
        self.events.append(("before_task_step", task))

    def after_task_step(self, task: Task) -> None:
        self.events.append(("after_task_step", task))

    def task_exited(self, task: Task) -> None:
        self.events.append(("task_exited", task))

    def before_io_wait(self, timeout: float) -> None:
        self.events.append(("before_io_wait", timeout))

    def after_io_wait(self, timeout: float) -> None:
        self.events.append(("after_io_wait", timeout))

    def hooks(self) -> list[str]:
        return [name for name, _ in self.events]

    def for_task(self, task: Task) -> list[str]:
        return [name for name, arg in self.events if arg is task]


def test_every_hook_is_called() -> None:
    recorder = Recorder()

    async def main() -> None:
        await nursery.sleep(0)

    nursery.run(main, instruments=[recorder])
    assert set(recorder.hooks()) == set(HOOKS)
    assert recorder.hooks()[0] == "before_run"
    assert recorder.hooks()[-1] == "after_run"
    assert recorder.hooks().count("before_run") == 1
    assert recorder.hooks().count("after_run") == 1


def test_task_hooks_follow_the_tasks_life() -> None:
    recorder = Recorder()
    tasks: list[Task] = []

    async def child() -> None:
        tasks.append(current_task())
        await nursery.sleep(0)

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(child)

    nursery.run(main, instruments=[recorder])
    (task,) = tasks
    events = recorder.for_task(task)
    assert events[:2] == ["task_spawned", "task_scheduled"]
    # Two steps (start, and after sleep(0)), each bracketed by before/after.
    steps = [e for e in events if e.endswith("_task_step")]
    assert steps == ["before_task_step", "after_task_step"] * 2
    # sleep(0) scheduled it again during the first step, before the second.
    first_step = events.index("before_task_step")
    second_step = events.index("before_task_step", first_step + 1)
    assert events.count("task_scheduled") == 2
    assert first_step < events.index("task_scheduled", 2) < second_step
    # It exits during its last step, once.
    assert events.count("task_exited") == 1
    assert events.index("task_exited") > second_step
    assert events.count("task_spawned") == 1


def test_io_wait_hooks_come_in_pairs_with_the_timeout() -> None:
    recorder = Recorder()

    async def main() -> None:
        await nursery.sleep(0)

    nursery.run(main, instruments=[recorder])
    waits = [(name, arg) for name, arg in recorder.events if name.endswith("io_wait")]
    assert waits
    for before, after in zip(waits[::2], waits[1::2], strict=True):
        assert before[0] == "before_io_wait"
        assert after[0] == "after_io_wait"
        assert before[1] == after[1]
        assert isinstance(before[1], float | int)
        assert before[1] >= 0


async def test_io_wait_does_not_block_while_a_task_is_runnable() -> None:
    recorder = Recorder()
    add_instrument(recorder)
    try:
        # We are runnable again at once, so the loop must only poll for I/O. (A busy
        # loop polls once every few dozen task steps, so take enough of them.)
        for _ in range(100):
            await nursery.sleep(0)
    finally:
        remove_instrument(recorder)
    # Over that many steps the loop must poll at least once, and never wait.
    timeouts = [arg for name, arg in recorder.events if name == "before_io_wait"]
    assert timeouts
    assert all(t == 0 for t in timeouts)


def test_instrument_with_only_some_hooks() -> None:
    exited: list[Task] = []

    class ExitsOnly(Instrument):
        def task_exited(self, task: Task) -> None:
            exited.append(task)

    async def main() -> Task:
        return current_task()

    main_task = nursery.run(main, instruments=[ExitsOnly()])
    assert main_task in exited


async def test_add_instrument_during_a_run() -> None:
    recorder = Recorder()
    add_instrument(recorder)
    try:
        await nursery.sleep(0)
    finally:
        remove_instrument(recorder)
    assert "before_task_step" in recorder.hooks()
    assert "before_run" not in recorder.hooks()
    count = len(recorder.events)
    await nursery.sleep(0)
    assert len(recorder.events) == count  # nothing after removal


async def test_adding_an_instrument_twice_is_a_no_op() -> None:
    recorder = Recorder()
    add_instrument(recorder)
    add_instrument(recorder)
    try:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep, 0)
            (child,) = n.child_tasks
    finally:
        remove_instrument(recorder)
    assert recorder.for_task(child).count("task_exited") == 1
    # Added once, so one removal was enough.
    with pytest.raises(KeyError):
        remove_instrument(recorder)


async def test_removing_an_unknown_instrument_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        remove_instrument(Recorder())


def test_after_run_is_called_when_the_main_task_fails() -> None:
    recorder = Recorder()

    async def main() -> None:
        raise ValueError

    with pytest.raises(ValueError):
        nursery.run(main, instruments=[recorder])
    assert recorder.hooks()[-1] == "after_run"


def test_failing_instrument_is_removed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    recorder = Recorder()

    class Broken(Instrument):
        def before_task_step(self, task: Task) -> None:
            calls.append("before_task_step")
            raise RuntimeError("instrument bug")

        def after_run(self) -> None:
            calls.append("after_run")

    broken = Broken()

    async def main() -> str:
        await nursery.sleep(0)
        await nursery.sleep(0)
        with pytest.raises(KeyError):
            remove_instrument(broken)  # it is already gone
        return "run unaffected"

    with caplog.at_level(logging.ERROR):
        assert nursery.run(main, instruments=[broken, recorder]) == "run unaffected"
    # Called once, then removed entirely: none of its other hooks run.
    assert calls == ["before_task_step"]
    # Other instruments keep working.
    assert recorder.hooks()[-1] == "after_run"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], RuntimeError)
    assert "before_task_step" in errors[0].getMessage()


def test_current_task_inside_the_step_hooks_is_the_task_being_stepped() -> None:
    seen: list[tuple[str, bool]] = []

    class Checker(Instrument):
        def before_task_step(self, task: Task) -> None:
            seen.append(("before", current_task() is task))

        def after_task_step(self, task: Task) -> None:
            seen.append(("after", current_task() is task))

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep, 0)

    nursery.run(main, instruments=[Checker()])
    assert {hook for hook, _ in seen} == {"before", "after"}
    assert all(same for _, same in seen)
