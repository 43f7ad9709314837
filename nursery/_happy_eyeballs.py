"""The socket-free half of Happy Eyeballs (RFC 8305): in which order to try a host's
addresses, and how to run staggered attempts until one of them succeeds.

Kept apart from the socket code so that both parts can be tested on their own: the
order is a pure function, and the race only knows about "attempts" that either return
a resource or raise ``OSError``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

import attrs

from ._core._nursery import Nursery, open_nursery
from ._sync import Event
from ._timeouts import move_on_after

T = TypeVar("T")
ResourceT = TypeVar("ResourceT")


def interleave_families(targets: Sequence[T], family_of: Callable[[T], Hashable]) -> list[T]:
    """Reorder resolved addresses so that consecutive attempts alternate between
    address families (RFC 8305, section 4, with a "First Address Family Count" of 1).

    The resolver's order is its preference (RFC 6724), so it is kept within each family,
    and the family of the very first address goes first. Families then take turns, in
    the order in which they first appear, until every address is used: with IPv6
    addresses ``a1 a2 a3`` and IPv4 addresses ``b1 b2`` resolved as ``a1 a2 a3 b1 b2``,
    the attempts are ``a1 b1 a2 b2 a3``. A broken family therefore never delays a
    working one by more than one attempt.
    """
    by_family: dict[Hashable, list[T]] = {}
    for target in targets:
        by_family.setdefault(family_of(target), []).append(target)
    queues = list(by_family.values())
    ordered: list[T] = []
    for turn in range(max(map(len, queues), default=0)):
        ordered.extend(queue[turn] for queue in queues if turn < len(queue))
    return ordered


@attrs.frozen
class RaceResult(Generic[ResourceT]):
    """How a staggered race ended without an exception: ``winner`` is the resource of
    the first attempt that succeeded (``None`` if all of them failed), and ``failures``
    holds ``(attempt index, error)`` for every attempt that failed, in the order in
    which they failed."""

    winner: ResourceT | None
    winner_index: int | None
    failures: list[tuple[int, OSError]]


@attrs.define(eq=False, slots=True)
class _Race(Generic[ResourceT]):
    discard: Callable[[ResourceT], None]
    nursery: Nursery | None = None
    winner: ResourceT | None = None
    winner_index: int | None = None
    failures: list[tuple[int, OSError]] = attrs.Factory(list)

    async def run_attempt(
        self, index: int, attempt: Callable[[], Awaitable[ResourceT]], failed: Event
    ) -> None:
        try:
            resource = await attempt()
        except OSError as exc:
            self.failures.append((index, exc))
            failed.set()  # the next attempt need not wait out the delay
            return
        # No checkpoint between the attempt's return and here: the resource is owned by
        # the race from the moment it exists, so a cancellation cannot lose it.
        if self.winner_index is not None:
            # Two attempts finished in the same batch, before the cancellation below
            # reached this one: the first keeps the prize.
            self.discard(resource)
            return
        self.winner, self.winner_index = resource, index
        assert self.nursery is not None
        self.nursery.cancel_scope.cancel("Happy Eyeballs: another attempt connected first")


async def staggered_race(
    attempts: Sequence[Callable[[], Awaitable[ResourceT]]],
    delay: float,
    discard: Callable[[ResourceT], None],
) -> RaceResult[ResourceT]:
    """Start ``attempts`` one after another, each ``delay`` seconds after the previous
    one started or as soon as the previous one fails, whichever comes first, and keep
    the first resource that an attempt returns.

    When an attempt succeeds, the attempts still running are cancelled and the race
    returns once they have finished; attempts not yet started never start. An attempt
    fails by raising ``OSError``; any other exception cancels the race and propagates
    (as from a nursery). Each attempt cleans up after itself when it fails or is
    cancelled; a resource that an attempt returned but that does not win (or a winner,
    when the race is cancelled or crashes before it can return) is passed to
    ``discard``. ``delay`` may be ``math.inf``: each attempt then runs to its end
    before the next starts.
    """
    race: _Race[ResourceT] = _Race(discard)
    try:
        async with open_nursery() as nursery:
            race.nursery = nursery
            for index, attempt in enumerate(attempts):
                failed = Event()
                nursery.start_soon(race.run_attempt, index, attempt, failed)
                if index == len(attempts) - 1:
                    break  # nothing left to start: the nursery waits for the rest
                # A win cancels the nursery, and so this wait: the Cancelled belongs
                # to the nursery's scope (the outermost cancelled one), not to the
                # delay's, so the loop ends there and starts nothing more.
                with move_on_after(delay):
                    await failed.wait()
    except BaseException:
        if race.winner is not None:
            discard(race.winner)
        raise
    return RaceResult(race.winner, race.winner_index, race.failures)


def check_delay(happy_eyeballs_delay: object) -> float:
    """``happy_eyeballs_delay`` as a number of seconds (``None`` meaning: never start
    an attempt before the previous one has failed)."""
    if happy_eyeballs_delay is None:
        return math.inf
    if isinstance(happy_eyeballs_delay, bool) or not isinstance(happy_eyeballs_delay, int | float):
        raise TypeError(
            "happy_eyeballs_delay must be a number of seconds or None, "
            f"got {happy_eyeballs_delay!r}"
        )
    if math.isnan(happy_eyeballs_delay) or happy_eyeballs_delay < 0:
        raise ValueError(f"happy_eyeballs_delay must be >= 0 seconds, got {happy_eyeballs_delay!r}")
    return float(happy_eyeballs_delay)
