"""Async generators left unfinished are finalized inside the run."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncGenerator

import pytest

import nursery
from nursery.lowlevel import in_task
from nursery.testing import wait_all_tasks_blocked


def test_leftover_async_generator_is_finalized_before_run_returns() -> None:
    log: list[object] = []
    kept_alive: list[AsyncGenerator[int, None]] = []

    async def numbers() -> AsyncGenerator[int, None]:
        try:
            yield 1
            yield 2  # pragma: no cover
        finally:
            # Finalized inside the run, where nursery's APIs still work.
            log.append(("finally", in_task()))

    async def main() -> None:
        agen = numbers()
        kept_alive.append(agen)  # outlives the main task
        assert await agen.asend(None) == 1
        log.append("main done")

    nursery.run(main)
    assert log == ["main done", ("finally", True)]


def test_several_leftover_generators_are_all_finalized() -> None:
    closed: list[int] = []
    kept_alive: list[AsyncGenerator[None, None]] = []

    async def agen(i: int) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            closed.append(i)

    async def main() -> None:
        for i in range(5):
            g = agen(i)
            kept_alive.append(g)
            await g.asend(None)

    nursery.run(main)
    assert sorted(closed) == [0, 1, 2, 3, 4]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_garbage_collected_generator_is_finalized_in_a_task() -> None:
    log: list[object] = []

    async def agen() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            log.append(("finally", in_task()))

    async def main() -> None:
        g = agen()
        await g.asend(None)
        del g
        gc.collect()
        # Finalization is handed to the loop; let it happen.
        await wait_all_tasks_blocked()
        log.append("main done")

    nursery.run(main)
    assert log == [("finally", True), "main done"]


def test_error_during_finalization_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kept_alive: list[AsyncGenerator[None, None]] = []

    async def agen() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            raise ValueError("cleanup failed")

    async def main() -> str:
        g = agen()
        kept_alive.append(g)
        await g.asend(None)
        return "result"

    with caplog.at_level(logging.ERROR):
        assert nursery.run(main) == "result"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], ValueError)


def test_exhausted_and_closed_generators_need_no_finalization() -> None:
    closed: list[str] = []

    async def agen() -> AsyncGenerator[int, None]:
        try:
            yield 1
        finally:
            closed.append("closed")

    async def main() -> None:
        assert [x async for x in agen()] == [1]
        g = agen()
        await g.asend(None)
        await g.aclose()

    nursery.run(main)
    assert closed == ["closed", "closed"]


def test_asyncgen_hooks_are_restored_after_the_run() -> None:
    before = sys.get_asyncgen_hooks()

    async def main() -> None:
        pass

    nursery.run(main)
    assert sys.get_asyncgen_hooks() == before


def test_generators_started_outside_the_run_are_left_alone() -> None:
    # A generator that was first iterated outside the run (here: by hand)
    # does not belong to the run; the run must not finalize it.
    closed: list[str] = []

    async def agen() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            closed.append("closed")

    outside = agen()
    with pytest.raises(StopIteration):
        outside.asend(None).send(None)

    async def main() -> None:
        pass

    nursery.run(main)
    assert closed == []
    with pytest.raises(StopIteration):
        outside.aclose().send(None)
    assert closed == ["closed"]
