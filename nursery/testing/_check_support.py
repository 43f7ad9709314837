"""What the stream conformance checkers share: expecting an exception, expecting a
checkpoint, opening a fresh pair of streams, and watching a call run in another task.

Every failure is an ``AssertionError`` whose message says which promise of the stream
contract was broken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Generic, NoReturn, TypeVar

from .._core._cancel_scope import CancelScope
from .._core._context import current_task
from .._core._exceptions import Cancelled
from .._stapled_stream import aclose_forcefully
from ..abc import AsyncResource

A = TypeVar("A", bound=AsyncResource)
B = TypeVar("B", bound=AsyncResource)
T = TypeVar("T")

StreamMaker = Callable[[], Awaitable[tuple[A, B]]]


def fail(message: str) -> NoReturn:
    raise AssertionError(message)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


@contextmanager
def expect_raises(expected: type[BaseException], action: str) -> Iterator[None]:
    """The block must raise ``expected`` (alone, or in a group with ``Cancelled`` of
    the tasks it brought down). A failed check inside, or a cancellation from outside,
    goes through unchanged."""
    try:
        yield
    except BaseException as exc:
        leaves = list(_leaves(exc))
        if any(
            isinstance(leaf, AssertionError) or not isinstance(leaf, (Exception, Cancelled))
            for leaf in leaves
        ):
            raise
        others = [leaf for leaf in leaves if not isinstance(leaf, (expected, Cancelled))]
        if others:
            fail(f"{action}: expected {expected.__name__}, but it raised {others[0]!r}")
        if not any(isinstance(leaf, expected) for leaf in leaves):
            raise  # only Cancelled: not ours to judge
    else:
        fail(f"{action}: expected {expected.__name__}, but nothing was raised")


@contextmanager
def errors_are_failures(action: str) -> Iterator[None]:
    """Any error from a correct stream used correctly is a broken promise: report it
    as one (a failed check or a cancellation goes through unchanged)."""
    try:
        yield
    except BaseException as exc:
        leaves = list(_leaves(exc))
        if any(
            not isinstance(leaf, Exception) or isinstance(leaf, AssertionError) for leaf in leaves
        ):
            raise
        fail(f"{action}: raised {leaves[0]!r}")


@contextmanager
def expect_checkpoint(action: str) -> Iterator[None]:
    """The block, when it finishes normally, must have passed a cancel point and a
    schedule point (every stream operation is a checkpoint)."""
    task = current_task()
    before = (task._cancel_points, task._schedule_points)
    yield
    if task._cancel_points == before[0] or task._schedule_points == before[1]:
        fail(f"{action} is not a checkpoint (no cancel point or no schedule point)")


@contextmanager
def plain_assertion_errors() -> Iterator[None]:
    """A failed check inside a nursery comes out in an exception group; the checkers
    promise a plain ``AssertionError``, so unwrap the first one."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        failures = [leaf for leaf in leaves if isinstance(leaf, AssertionError)]
        if failures and all(isinstance(leaf, (AssertionError, Cancelled)) for leaf in leaves):
            raise failures[0] from None
        raise


@asynccontextmanager
async def opened(
    maker: StreamMaker[A, B], kinds: tuple[type[object], type[object]], role: str
) -> AsyncIterator[tuple[A, B]]:
    """A fresh pair from ``maker``, checked for the right interfaces, closed at the end
    whatever happens (even half-way through a failed check)."""
    pair = await maker()
    if not isinstance(pair, tuple) or len(pair) != 2:
        fail(f"{role} must return a pair of streams, got {pair!r}")
    try:
        for stream, kind, side in zip(pair, kinds, ("first", "second"), strict=True):
            if not isinstance(stream, kind):
                fail(
                    f"the {side} stream from {role} must be a {kind.__name__}, "
                    f"got {type(stream).__name__}"
                )
        yield pair
    finally:
        # Closing what may already be closed must work: aclose is idempotent.
        action = "aclose (forcefully) of a stream that a check may have closed already"
        with errors_are_failures(action):
            try:
                if isinstance(pair[0], AsyncResource):
                    await aclose_forcefully(pair[0])
            finally:
                if isinstance(pair[1], AsyncResource):
                    await aclose_forcefully(pair[1])


class Call(Generic[T]):
    """One call run in a task of its own, so that the checker can look at it while it
    is blocked, then wake or cancel it and look at how it ended."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.done = False
        self.result: T | None = None
        self.error: Exception | None = None
        self.scope = CancelScope()

    async def run(self, fn: Callable[[], Awaitable[T]]) -> None:
        with self.scope:
            try:
                self.result = await fn()
            except AssertionError:
                raise  # a failed check inside the call is the checker's own report
            except Exception as exc:
                self.error = exc
        self.done = True

    def _outcome(self) -> str:
        if self.error is not None:
            return f"raised {self.error!r}"
        if self.scope.cancelled_caught:
            return "was cancelled"
        return f"returned {self.result!r}"

    def expect_blocked(self, why: str) -> None:
        if self.done:
            fail(f"{self.action} should block {why}, but it {self._outcome()}")

    def expect_done(self, after: str) -> None:
        if not self.done:
            self.scope.cancel()  # do not leave it hanging while the failure propagates
            fail(f"{self.action} was still blocked {after}")

    def expect_raised(self, expected: type[Exception], after: str) -> None:
        self.expect_done(after)
        if not isinstance(self.error, expected):
            fail(
                f"{self.action} should raise {expected.__name__} {after}, but it {self._outcome()}"
            )

    def expect_returned(self, after: str) -> T | None:
        self.expect_done(after)
        if self.error is not None:
            fail(f"{self.action} should return {after}, but it raised {self.error!r}")
        return self.result

    def expect_cancelled(self, after: str) -> None:
        self.expect_done(after)
        if self.error is not None:
            fail(f"{self.action} should raise Cancelled {after}, but it raised {self.error!r}")
        if not self.scope.cancelled_caught:
            fail(f"{self.action} returned {self.result!r} {after}, instead of raising Cancelled")
