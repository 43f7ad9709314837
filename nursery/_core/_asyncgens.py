"""Async generator finalization.

An async generator that is dropped before it finished must be closed by running its
``aclose()`` inside the run (its ``finally`` blocks may await). Python lets an event loop
hook async generators for this: ``firstiter`` sees each generator's first iteration,
``finalizer`` its garbage collection. Ours: generators first iterated inside one of our
tasks are ours; a collected one is closed in a fresh system task; whatever is still
alive when the main task is done is closed before ``run()`` returns. Generators that are
not ours are handed to the hooks that were installed before the run.
"""

from __future__ import annotations

import logging
import sys
import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from . import _context

if TYPE_CHECKING:
    from ._runner import Runner

AGen = AsyncGenerator[Any, Any]
logger = logging.getLogger("nursery.async_generator_errors")


class AsyncGenHooks:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.alive: weakref.WeakSet[AGen] = weakref.WeakSet()
        # ids of generators that are not ours (first iterated outside our tasks)
        self.foreign: set[int] = set()
        # Ours, collected after the shutdown sweep began: closed by the sweep.
        self.trailing: list[AGen] = []
        self.sweeping = False
        self.previous: Any = None

    def install(self) -> None:
        self.previous = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=self.firstiter, finalizer=self.finalizer)

    def uninstall(self) -> None:
        if self.previous is not None:
            sys.set_asyncgen_hooks(*self.previous)

    def firstiter(self, agen: AGen) -> None:
        runner = getattr(_context.GLOBAL_RUN_CONTEXT, "runner", None)
        if runner is self.runner and runner.current_task is not None:
            self.alive.add(agen)
            return
        self.foreign.add(id(agen))
        if self.previous is not None and self.previous.firstiter is not None:
            self.previous.firstiter(agen)

    def finalizer(self, agen: AGen) -> None:
        if id(agen) in self.foreign:
            self.foreign.discard(id(agen))
            if self.previous is not None and self.previous.finalizer is not None:
                self.previous.finalizer(agen)
            else:
                _close_synchronously(agen)
            return
        if self.sweeping:
            self.trailing.append(agen)
            return
        try:
            self.runner.entry_queue.run_sync_soon(self._spawn_closer, agen)
        except RuntimeError:
            # The run is over: nothing can run the generator's cleanup any more.
            pass

    def _spawn_closer(self, agen: AGen) -> None:
        self.runner.spawn_impl(
            _close_agen,
            (agen,),
            self.runner.system_nursery,
            f"close of async generator {_agen_name(agen)}",
            system_task=True,
        )


def _close_synchronously(agen: AGen) -> None:
    """Close a generator that is not ours the way Python would without any hooks: run
    its cleanup to the end right here, which works as long as the cleanup awaits
    nothing."""
    closer = agen.aclose()
    try:
        closer.send(None)
    except StopIteration:
        return
    closer.close()
    raise RuntimeError(
        f"async generator {_agen_name(agen)!r}, started outside nursery's tasks, awaited "
        "something while being finalized; close it explicitly (contextlib.aclosing) "
        "or install an event loop's finalizer hook for it"
    )


def _agen_name(agen: AGen) -> str:
    return getattr(agen, "__qualname__", None) or repr(agen)


async def _close_agen(agen: AGen) -> None:
    try:
        await agen.aclose()
    except Exception:
        # Like an exception in __del__: report it, never let it crash the run.
        logger.exception("Exception ignored while closing async generator %s", _agen_name(agen))


async def finalize_remaining(runner: Runner) -> None:
    """Close every async generator of the run still alive. Runs in the init task once
    every other task (but the entry-queue one) has finished."""
    from ._nursery import open_nursery

    hooks: AsyncGenHooks = runner.asyncgens
    hooks.sweeping = True
    while True:
        batch = list(hooks.alive) + hooks.trailing
        hooks.alive.clear()
        hooks.trailing = []
        if not batch:
            return
        async with open_nursery() as closers:
            for agen in batch:
                runner.spawn_impl(
                    _close_agen,
                    (agen,),
                    closers,
                    f"close of async generator {_agen_name(agen)}",
                    system_task=True,
                )
        del batch
