"""KeyboardInterrupt protection.

Control-C must never land in the middle of kernel bookkeeping, or the run's state is
torn. So the SIGINT handler looks at the interrupted frame stack: if the innermost frame
that has a say is protected, the interrupt is recorded and delivered later to the main
task at a checkpoint; otherwise ``KeyboardInterrupt`` is raised right there, as Python
normally does.

Protection is a property of code objects (so it covers plain functions, coroutines,
generators and async generators alike, with no wrapper and no cost per call).
``enable_ki_protection`` and ``disable_ki_protection`` mark a function; the kernel marks
its own. Task stepping goes through one "task boundary" function: a walk that reaches it
from inside a task asks the task (system tasks are protected, user tasks are not).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from types import CodeType, FrameType
from typing import TypeVar

from . import _context

F = TypeVar("F", bound=Callable[..., object])

_protection: weakref.WeakKeyDictionary[CodeType, bool] = weakref.WeakKeyDictionary()
_task_boundaries: set[CodeType] = set()


def _code_of(fn: object) -> CodeType:
    code = getattr(fn, "__code__", None)
    if not isinstance(code, CodeType):
        fget = getattr(fn, "fget", None)  # a property: mark its getter
        code = getattr(fget, "__code__", None)
    if not isinstance(code, CodeType):
        raise TypeError(f"expected a Python function, got {fn!r}")
    return code


def enable_ki_protection(fn: F) -> F:
    """Mark ``fn`` (a function, coroutine function, generator or async generator
    function) so that KeyboardInterrupt is deferred to a checkpoint while it runs."""
    _protection[_code_of(fn)] = True
    return fn


def disable_ki_protection(fn: F) -> F:
    """Mark ``fn`` so that KeyboardInterrupt is raised immediately while it runs, even
    when called from protected code."""
    _protection[_code_of(fn)] = False
    return fn


def mark_task_boundary(fn: F) -> F:
    """The kernel's task-stepping function: frames above it belong to a task."""
    _task_boundaries.add(_code_of(fn))
    _protection[_code_of(fn)] = True
    return fn


def ki_protected_at(frame: FrameType | None) -> bool:
    """Whether a KeyboardInterrupt arriving in ``frame`` must be deferred."""
    child: FrameType | None = None
    while frame is not None:
        code = frame.f_code
        if code in _task_boundaries and child is not None:
            # Reached from below the kernel's stepping function: inside a task's step
            # the task decides (system tasks are protected); between steps it is the
            # kernel's own work (I/O, deadlines, abort functions), so protected.
            task = _context.current_task_or_none()
            return task is None or bool(task._system_task)
        verdict = _protection.get(code)
        if verdict is not None:
            return verdict
        child = frame
        frame = frame.f_back
    return False


def currently_ki_protected() -> bool:
    """Whether KeyboardInterrupt would be deferred if it arrived here and now."""
    return ki_protected_at(sys._getframe(1))
