"""The exception state a task sees when it wakes from a wait with an error.

A task woken with an exception (cancellation, ``reschedule`` with an ``outcome.Error``)
must see the same ``sys.exc_info()`` and implicit chaining as if the exception had been
raised by a plain call: the functions it awaits through may be inside ``except`` blocks.
"""

from __future__ import annotations

import sys

import outcome

import nursery
from nursery.lowlevel import Abort, Task, current_task, reschedule, wait_task_rescheduled
from nursery.testing import wait_all_tasks_blocked


async def test_exc_info_of_an_outer_handler_survives_a_cancelled_wait_in_a_callee(
    autojump_clock: object,
) -> None:
    seen: list[BaseException | None] = []

    async def give_up_after_a_while() -> None:
        with nursery.move_on_after(1):
            await nursery.sleep(10)
        seen.append(sys.exc_info()[1])

    try:
        raise KeyError("being handled")
    except KeyError as handled:
        await give_up_after_a_while()
        assert seen == [handled]
        assert sys.exc_info()[1] is handled


async def test_an_error_rescheduled_into_a_nested_wait_chains_to_the_handled_ones() -> None:
    tasks: list[Task] = []
    caught: list[BaseException] = []

    async def inner() -> None:
        try:
            raise IndexError
        except IndexError:
            await wait_task_rescheduled(lambda _: Abort.SUCCEEDED)

    async def child() -> None:
        tasks.append(current_task())
        try:
            raise KeyError
        except KeyError:
            try:
                await inner()
            except ValueError as exc:
                caught.append(exc)

    async with nursery.open_nursery() as n:
        n.start_soon(child)
        await wait_all_tasks_blocked()
        reschedule(tasks[0], outcome.Error(ValueError("woken")))

    [error] = caught
    assert isinstance(error.__context__, IndexError)
    assert isinstance(error.__context__.__context__, KeyError)


async def test_a_value_that_is_an_exception_is_returned_not_raised() -> None:
    tasks: list[Task] = []
    got: list[object] = []

    async def sleeper() -> None:
        tasks.append(current_task())
        got.append(await wait_task_rescheduled(lambda _: Abort.SUCCEEDED))

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        value = KeyError("just a value")
        reschedule(tasks[0], outcome.Value(value))
    assert got == [value]
