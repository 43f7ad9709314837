"""What travels between the run and a worker process, and how it is turned back into a
return value or an exception.

Every message is a frame: an 8-byte big-endian length, then that many bytes of pickle.
A request is two frames, the pickled function and the pickled argument tuple, so that
each side can say which of the two it failed to (un)pickle. A reply is one frame: a
pickled ``(RESULT, value)``, or ``(ERROR, exception, traceback text, summary)`` where
the exception is pickled on its own, so that an exception that cannot make the trip
still arrives as its traceback text.

This module does no I/O of its own on the run's side and imports nothing of the
kernel: the worker process uses it too.
"""

from __future__ import annotations

import pickle
import struct
import traceback
from collections.abc import Callable
from typing import Any

from ._errors import RemoteTraceback

HEADER = struct.Struct("!Q")

RESULT = "result"
ERROR = "error"

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_REPR_LIMIT = 200


def describe(fn: object) -> str:
    """A short name for a function, for error messages."""
    name = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if isinstance(name, str) and isinstance(module, str):
        return f"{module}.{name}"
    return _short_repr(fn)


def _short_repr(obj: object) -> str:
    try:
        text = repr(obj)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(obj).__name__} object>"
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return text


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


# -- the run's side ------------------------------------------------------------------


def encode_request(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    """The two frames of a call, or a ``TypeError`` naming what cannot be pickled."""
    try:
        fn_blob = pickle.dumps(fn, _PROTOCOL)
    except Exception as exc:
        raise TypeError(
            f"to_process.run_sync() cannot send the function {_short_repr(fn)} to a worker "
            f"process: it cannot be pickled ({type(exc).__name__}: {exc}). Use a function "
            "defined at the top level of an importable module."
        ) from exc
    try:
        args_blob = pickle.dumps(args, _PROTOCOL)
    except Exception as exc:
        culprit = _first_unpicklable(args)
        what = "the arguments" if culprit is None else f"argument {culprit}"
        raise TypeError(
            f"to_process.run_sync() cannot send {what} of {describe(fn)} to a worker "
            f"process: it cannot be pickled ({type(exc).__name__}: {exc})"
        ) from exc
    # One copy of the (possibly large) pickles, not one per concatenation.
    return b"".join((HEADER.pack(len(fn_blob)), fn_blob, HEADER.pack(len(args_blob)), args_blob))


def _first_unpicklable(args: tuple[Any, ...]) -> str | None:
    for index, arg in enumerate(args):
        try:
            pickle.dumps(arg, _PROTOCOL)
        except Exception:
            return f"{index} ({_short_repr(arg)})"
    return None


def decode_reply(payload: bytes | bytearray, fn: object) -> Any:
    """Return the worker's result, or raise the worker's exception with its traceback
    text as ``__cause__``."""
    try:
        reply = pickle.loads(payload)
    except Exception as exc:
        raise TypeError(
            f"the result of {describe(fn)} was pickled in the worker process but cannot be "
            f"unpickled here ({type(exc).__name__}: {exc})"
        ) from exc
    if reply[0] == RESULT:
        return reply[1]
    _, exc_blob, text, summary = reply
    error = _load_exception(exc_blob, fn, summary)
    error.__cause__ = RemoteTraceback(text)
    raise error


def _load_exception(exc_blob: bytes | None, fn: object, summary: str) -> BaseException:
    why = "it cannot be pickled"
    if exc_blob is not None:
        try:
            error = pickle.loads(exc_blob)
        except Exception as exc:
            why = f"it cannot be unpickled here ({type(exc).__name__}: {exc})"
        else:
            if isinstance(error, BaseException):
                return error
            why = f"it unpickled as {_short_repr(error)}"
    return TypeError(
        f"{describe(fn)} raised {summary} in the worker process, and the exception cannot "
        f"be sent back: {why}. Its traceback is the cause of this error."
    )


# -- the worker's side ---------------------------------------------------------------


def load_request(
    fn_blob: bytes | bytearray, args_blob: bytes | bytearray
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """Unpickle a call in the worker, or a ``TypeError`` naming what failed."""
    try:
        fn = pickle.loads(fn_blob)
    except Exception as exc:
        raise TypeError(
            f"the worker process cannot unpickle the function ({type(exc).__name__}: {exc}); "
            "is its module importable in a fresh interpreter (on sys.path, and not only "
            "defined in an interactive session)?"
        ) from exc
    try:
        args = pickle.loads(args_blob)
    except Exception as exc:
        raise TypeError(
            f"the worker process cannot unpickle the arguments of {describe(fn)} "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    return fn, args


def encode_result(fn: object, value: object) -> bytes:
    try:
        return frame(pickle.dumps((RESULT, value), _PROTOCOL))
    except Exception as exc:
        raise TypeError(
            f"the result of {describe(fn)} cannot be sent back from the worker process: "
            f"{_short_repr(value)} cannot be pickled ({type(exc).__name__}: {exc})"
        ) from exc


def encode_error(error: BaseException, worker_pid: int) -> bytes:
    text = "".join(traceback.format_exception(error)).rstrip("\n")
    header = f"traceback in worker process {worker_pid}:\n"
    try:
        exc_blob: bytes | None = pickle.dumps(error, _PROTOCOL)
    except Exception:
        exc_blob = None
    try:
        message = str(error)
    except Exception:
        message = ""
    summary = type(error).__qualname__ + (f": {message}" if message else "")
    return frame(pickle.dumps((ERROR, exc_blob, header + text, summary), _PROTOCOL))
