"""Small helpers shared by the kernel: final classes, runtime-owned classes, and the
check that turns ``async_fn, *args`` into a coroutine with a helpful error."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from types import CoroutineType, GeneratorType
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")


class Final(type):
    """Metaclass for classes that must not be subclassed."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> Final:
        for base in bases:
            if isinstance(base, Final):
                raise TypeError(
                    f"{base.__module__}.{base.__qualname__} does not support subclassing"
                )
        return super().__new__(mcs, name, bases, namespace, **kwargs)


class NoPublicConstructor(Final):
    """Metaclass for objects the runtime owns (tasks, nurseries, tokens).

    Calling the class raises ``TypeError``; the kernel builds instances with ``cls._create``.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} has no public constructor; "
            "instances are created by the nursery runtime"
        )

    def _create(cls: type[T], *args: Any, **kwargs: Any) -> T:
        return super().__call__(*args, **kwargs)  # type: ignore[misc, no-any-return]


def name_of(fn: object) -> str:
    """A readable name for a task built from ``fn`` (unwrapping functools.partial)."""
    while hasattr(fn, "func"):
        fn = fn.func
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if qualname is None:
        return repr(fn)
    return f"{module}.{qualname}" if module else qualname


def _looks_like_asyncio(obj: object) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith(("asyncio", "_asyncio", "uvloop", "tornado", "twisted"))


def reject_non_callable(async_fn: object, what: str) -> None:
    """``TypeError`` unless ``async_fn`` is callable; a coroutine object (the classic
    ``f()`` for ``f`` slip) is closed first so that it does not warn "never awaited"."""
    if isinstance(async_fn, CoroutineType):
        async_fn.close()
        raise TypeError(
            f"{what} expected an async function, got a coroutine object {async_fn!r}; "
            "did you write f() instead of f? Pass the function and its arguments "
            f"separately: {what[:-2]}(f, arg), not {what[:-2]}(f(arg))"
        )
    if not callable(async_fn):
        raise TypeError(f"{what} expected an async function, got {async_fn!r}")


def coroutine_or_error(
    async_fn: Callable[..., Coroutine[Any, Any, T]], args: tuple[Any, ...], what: str
) -> Coroutine[Any, Any, T]:
    """Call ``async_fn(*args)`` and check that it gave a coroutine.

    ``what`` names the API for the error message (``"start_soon()"``). A coroutine object
    passed where the function was expected is closed, so it never warns "never awaited".
    """
    reject_non_callable(async_fn, what)
    coro = async_fn(*args)
    if type(coro) is CoroutineType:
        return coro
    if isinstance(coro, GeneratorType):
        coro.close()
        raise TypeError(
            f"{what} expected an async function, but {async_fn!r} returned a generator; "
            "did you write 'def' instead of 'async def'?"
        )
    if _looks_like_asyncio(coro) or _looks_like_asyncio(async_fn):
        close = getattr(coro, "close", None)
        if close is not None:
            close()
        raise TypeError(
            f"{what} got {coro!r} from {async_fn!r}: this looks like code written for "
            "asyncio (or another framework), which cannot run inside nursery"
        )
    if isinstance(coro, Coroutine):
        return coro
    if inspect.isawaitable(coro):
        raise TypeError(
            f"{what} expected an async function, but {async_fn!r} returned the awaitable "
            f"{coro!r}; wrap it in an 'async def' function"
        )
    raise TypeError(
        f"{what} expected an async function, but {async_fn!r} returned {coro!r}; "
        "did you write 'def' instead of 'async def'?"
    )
