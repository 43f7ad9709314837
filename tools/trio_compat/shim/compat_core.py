"""Stands in for Trio's private modules (``trio._core``, ``trio._threads``, ...) in the
converted tests.

It has every public name of nursery, nursery.lowlevel and nursery.testing (Trio's
``_core`` namespace mixes the three), the thread helpers under the names Trio's
private ``_threads`` module uses, and, for anything else, a stand-in object that fails
with ``NoCounterpart`` when the test actually uses it. That way a test module that
imports one Trio internal still loads, and only the tests that touch it fail.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import pytest

import nursery
import nursery.abc
import nursery.from_thread
import nursery.lowlevel
import nursery.testing
import nursery.to_thread

for _module in (nursery, nursery.lowlevel, nursery.testing):
    for _name in dir(_module):
        if not _name.startswith("_"):
            globals()[_name] = getattr(_module, _name)

to_thread_run_sync = nursery.to_thread.run_sync
from_thread_run = nursery.from_thread.run
from_thread_run_sync = nursery.from_thread.run_sync
from_thread_check_cancelled = nursery.from_thread.check_cancelled
current_default_thread_limiter = nursery.to_thread.current_default_thread_limiter

_core = sys.modules[__name__]
_abc = nursery.abc
# Trio's test helpers for exception groups; pytest has its own now.
_RaisesGroup = pytest.RaisesGroup
_Matcher = pytest.RaisesExc


class NoCounterpart(Exception):
    """A converted Trio test used a Trio internal that nursery does not have."""


class _StandIn:
    def __init__(self, name: str) -> None:
        self._name = name

    def _fail(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise NoCounterpart(f"no nursery counterpart for trio internal {self._name!r}")

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _StandIn(f"{self._name}.{attr}")

    __call__ = _fail
    __enter__ = _fail
    __iter__ = _fail
    __getitem__ = _fail
    __eq__ = _fail  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]
    __bool__ = _fail

    def __mro_entries__(self, bases: tuple[object, ...]) -> tuple[type, ...]:
        return ()  # a test class deriving from a Trio internal still gets defined

    def __repr__(self) -> str:
        return f"<stand-in for trio internal {self._name}>"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return _StandIn(name)
