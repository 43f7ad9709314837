"""Lending a task's coroutine to another coroutine runner and taking it back, with
lowlevel.temporarily_detach_coroutine_object and reattach_detached_coroutine_object."""

import types
from collections.abc import Coroutine, Generator
from typing import Any

import nursery
import nursery.lowlevel as ll

STOP = object()  # what the coroutine yields to tell the other runner to let go


@types.coroutine
def ask_other_runner(request: object) -> Generator[Any, Any, Any]:
    # While detached, a yield goes to whoever steps the coroutine now, not to nursery.
    return (yield request)


def squaring_runner(coro: Coroutine[Any, Any, Any], first: int) -> None:
    """A toy coroutine runner: answers ("square", n) requests until told to stop."""
    request = coro.send(first)
    while request is not STOP:
        _, n = request
        request = coro.send(n * n)


def must_not_abort(raise_cancel: ll.RaiseCancelT) -> ll.Abort:
    # Only a reattach may resume a detached task. (A real bridge would tell its runner
    # to wind down here, and call raise_cancel() after reattaching.)
    return ll.Abort.FAILED


async def worker(lend: list[Coroutine[Any, Any, Any]], ready: nursery.Event) -> list[int]:
    task = ll.current_task()
    lend.append(task.coro)
    ready.set()
    first = await ll.temporarily_detach_coroutine_object(must_not_abort)
    # Stepped by squaring_runner now: nursery's own waits must not be used here.
    answers = [await ask_other_runner(("square", n)) for n in (2, 3, first)]
    await ll.reattach_detached_coroutine_object(task, STOP)
    # Back under nursery, in the same task.
    await nursery.sleep(0)
    return answers


async def main() -> None:
    lend: list[Coroutine[Any, Any, Any]] = []
    ready = nursery.Event()
    results: list[list[int]] = []

    async def run_worker() -> None:
        results.append(await worker(lend, ready))

    async with nursery.open_nursery() as n:
        n.start_soon(run_worker)
        await ready.wait()  # by now the worker has detached: it is asleep for nursery
        squaring_runner(lend[0], 4)
    print("squares:", results[0])
    assert results == [[4, 9, 16]]


if __name__ == "__main__":
    nursery.run(main)
