"""Edge cases of async generator finalization: generators that are not the run's,
generators collected mid-run, and generators made while the run is closing the rest."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any

import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import checkpoint, current_task, currently_ki_protected, in_task
from nursery.testing import wait_all_tasks_blocked


@pytest.fixture
def restore_asyncgen_hooks() -> Iterator[None]:
    saved = sys.get_asyncgen_hooks()
    try:
        yield
    finally:
        sys.set_asyncgen_hooks(*saved)


def step_outside_any_task(agen: AsyncGenerator[Any, None]) -> Any:
    """Advance ``agen`` once by hand, the way a foreign event loop would."""
    try:
        agen.asend(None).send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the generator awaited something")  # pragma: no cover


class StartsAForeignGenerator(Instrument):
    """Iterates an async generator from a hook, where no task of the run is running:
    the generator is not the run's."""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.held: list[AsyncGenerator[Any, None]] = []
        self.first_value: object = None

    def before_run(self) -> None:
        agen = self.make()
        self.first_value = step_outside_any_task(agen)
        self.held.append(agen)


def test_foreign_generator_goes_to_the_hooks_installed_before_the_run(
    restore_asyncgen_hooks: None,
) -> None:
    first_iterated: list[int] = []  # ids: a reference would keep it alive
    finalized: list[AsyncGenerator[Any, None]] = []
    log: list[str] = []

    async def foreign() -> AsyncGenerator[int, None]:
        try:
            yield 1
        finally:
            log.append("foreign finally")

    sys.set_asyncgen_hooks(
        firstiter=lambda agen: first_iterated.append(id(agen)), finalizer=finalized.append
    )
    starter = StartsAForeignGenerator(foreign)

    async def main() -> None:
        starter.held.clear()  # the generator is collected now, during the run
        gc.collect()
        await wait_all_tasks_blocked()
        log.append("main done")

    nursery.run(main, instruments=[starter])
    assert starter.first_value == 1
    assert len(first_iterated) == 1
    # Handed to the previous finalizer, untouched by the run: its finally has not run.
    assert [id(agen) for agen in finalized] == first_iterated
    assert log == ["main done"]
    # Whoever owns it closes it.
    step_closer = finalized[0].aclose()
    with pytest.raises(StopIteration):
        step_closer.send(None)
    assert log == ["main done", "foreign finally"]


def test_foreign_generator_without_previous_hooks_does_not_disturb_the_run(
    restore_asyncgen_hooks: None,
) -> None:
    sys.set_asyncgen_hooks(None, None)

    async def foreign() -> AsyncGenerator[int, None]:
        yield 1  # pragma: no cover

    starter = StartsAForeignGenerator(foreign)

    async def main() -> str:
        starter.held.clear()
        gc.collect()
        await wait_all_tasks_blocked()
        return "finished"

    assert nursery.run(main, instruments=[starter]) == "finished"
    assert sys.get_asyncgen_hooks() == (None, None)


def test_foreign_generator_without_previous_hooks_is_closed_when_collected(
    restore_asyncgen_hooks: None,
) -> None:
    sys.set_asyncgen_hooks(None, None)
    log: list[str] = []

    async def foreign() -> AsyncGenerator[int, None]:
        try:
            yield 1
        finally:
            log.append("foreign finally")

    starter = StartsAForeignGenerator(foreign)

    async def main() -> None:
        starter.held.clear()
        gc.collect()
        log.append("after collection")

    nursery.run(main, instruments=[starter])
    assert log == ["foreign finally", "after collection"]


@types.coroutine
def suspend() -> Generator[str, None, None]:
    yield "suspended"  # what a foreign event loop's primitive would yield


def test_foreign_generator_that_awaits_while_closed_is_reported(
    restore_asyncgen_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.set_asyncgen_hooks(None, None)
    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: reported.append(info.exc_value))
    log: list[str] = []

    async def foreign() -> AsyncGenerator[int, None]:
        try:
            yield 1
        finally:
            log.append("cleanup started")
            await suspend()
            log.append("cleanup finished")  # pragma: no cover

    starter = StartsAForeignGenerator(foreign)

    async def main() -> str:
        starter.held.clear()
        gc.collect()
        await checkpoint()
        return "run unaffected"

    assert nursery.run(main, instruments=[starter]) == "run unaffected"
    assert log == ["cleanup started"]
    (error,) = reported
    assert isinstance(error, RuntimeError)
    assert "foreign" in str(error)
    assert "awaited" in str(error)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_collected_generator_is_closed_in_a_protected_system_task() -> None:
    seen: list[tuple[object, ...]] = []
    main_task = current_task()

    async def agen() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            task = current_task()
            # Its cleanup may still await.
            await checkpoint()
            seen.append((task is main_task, in_task(), currently_ki_protected(), task.name))

    g = agen()
    await g.asend(None)
    del g
    gc.collect()
    await wait_all_tasks_blocked()
    (record,) = seen
    is_main, inside, protected, name = record
    assert not is_main
    assert inside
    assert protected
    assert "agen" in str(name)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_collected_generator_whose_cleanup_fails_is_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def agen() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            raise ValueError("cleanup failed")

    g = agen()
    await g.asend(None)
    del g
    gc.collect()
    await wait_all_tasks_blocked()
    errors = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], ValueError)]
    assert len(errors) == 1
    await checkpoint()  # the run goes on


def test_generator_made_while_the_run_closes_the_rest_is_closed_too() -> None:
    log: list[str] = []
    kept: list[AsyncGenerator[None, None]] = []

    async def late() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            log.append(f"late finally, in a task: {in_task()}")

    async def early() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            # Runs during the end-of-run sweep: start another generator and drop
            # it, so that it is collected while the sweep is going on.
            other = late()
            await other.asend(None)
            del other
            gc.collect()
            log.append("early finally")

    async def main() -> None:
        g = early()
        await g.asend(None)
        kept.append(g)  # outlives the main task: closed by the sweep

    nursery.run(main)
    assert log == ["early finally", "late finally, in a task: True"]
