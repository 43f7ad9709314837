"""Instrument dispatch: which instruments define which hook.

The run loop tests ``instruments`` (a dict: true when non-empty) once per batch and
takes an uninstrumented path when it is false, so a run without instruments pays
nothing per task step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ._abc import Instrument

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

logger = logging.getLogger("nursery.abc.Instrument")


class Instruments(dict[str, dict[Instrument, None]]):
    """Maps a hook name to the instruments that define it (in the order added). Only
    hooks some instrument overrides are present, so ``"hook" in instruments`` is the
    cheap test before a call."""

    __slots__ = ()

    def __init__(self, incoming: Sequence[Instrument]) -> None:
        super().__init__()
        for instrument in incoming:
            self.add_instrument(instrument)

    def add_instrument(self, instrument: Instrument) -> None:
        if not isinstance(instrument, Instrument):
            raise TypeError(
                f"instruments must be nursery.abc.Instrument instances, got {instrument!r}"
            )
        # Adding the same instrument twice is harmless: remove the old entries first.
        self.remove_instrument(instrument, missing_ok=True)
        for name in HOOKS:
            if getattr(type(instrument), name) is not getattr(Instrument, name):
                self.setdefault(name, {})[instrument] = None

    def remove_instrument(self, instrument: Instrument, *, missing_ok: bool = False) -> None:
        found = False
        for name in list(self):
            hooks = self[name]
            if instrument in hooks:
                found = True
                del hooks[instrument]
                if not hooks:
                    del self[name]
        if not found and not missing_ok:
            raise KeyError(f"{instrument!r} is not an instrument of this run")

    def call(self, hook: str, *args: Any) -> None:
        for instrument in list(self.get(hook, ())):
            try:
                getattr(instrument, hook)(*args)
            except BaseException:
                self.remove_instrument(instrument, missing_ok=True)
                logger.exception(
                    "Instrument %r raised in hook %r; it has been removed from the run",
                    instrument,
                    hook,
                )
