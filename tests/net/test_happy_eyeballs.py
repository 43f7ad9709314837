"""The socket-free half of Happy Eyeballs: the RFC 8305 address order and the
staggered race, driven by fake attempts under the autojump clock."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nursery
from nursery._happy_eyeballs import check_delay, interleave_families, staggered_race
from nursery.testing import MockClock


def family(address: str) -> str:
    return "v6" if ":" in address else "v4"


# -- the order of the attempts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        ([], []),
        (["1.1.1.1"], ["1.1.1.1"]),
        (["1.1.1.1", "2.2.2.2", "3.3.3.3"], ["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
        (["::1", "::2", "::3", "4.4.4.4", "5.5.5.5"], ["::1", "4.4.4.4", "::2", "5.5.5.5", "::3"]),
        (["1.1.1.1", "2.2.2.2", "::3"], ["1.1.1.1", "::3", "2.2.2.2"]),
        (["::1", "2.2.2.2", "::3", "4.4.4.4"], ["::1", "2.2.2.2", "::3", "4.4.4.4"]),
        (["1.1.1.1", "::2", "::3", "::4"], ["1.1.1.1", "::2", "::3", "::4"]),
    ],
)
def test_interleave_families(resolved: list[str], expected: list[str]) -> None:
    assert interleave_families(resolved, family) == expected


def test_interleave_three_families_take_turns() -> None:
    targets = [("a", 1), ("a", 2), ("b", 1), ("c", 1), ("c", 2), ("b", 2)]
    assert interleave_families(targets, lambda t: t[0]) == [
        ("a", 1),
        ("b", 1),
        ("c", 1),
        ("a", 2),
        ("b", 2),
        ("c", 2),
    ]


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers())))
def test_interleave_properties(targets: list[tuple[str, int]]) -> None:
    ordered = interleave_families(targets, lambda t: t[0])
    # A permutation...
    assert sorted(ordered) == sorted(targets)
    # ...that keeps the resolver's preference within each family...
    for fam in "abc":
        assert [t for t in ordered if t[0] == fam] == [t for t in targets if t[0] == fam]
    # ...starts with the resolver's first choice...
    if targets:
        assert ordered[0] == targets[0]
    # ...and never tries one family twice in a row while another one has addresses left.
    for i in range(len(ordered) - 1):
        if ordered[i][0] == ordered[i + 1][0]:
            assert {t[0] for t in ordered[i:]} == {ordered[i][0]}


# -- check_delay -----------------------------------------------------------------------------


def test_check_delay() -> None:
    assert check_delay(None) == math.inf
    assert check_delay(0) == 0.0
    assert check_delay(0.25) == 0.25
    assert check_delay(math.inf) == math.inf
    for bad in ["1", True, object()]:
        with pytest.raises(TypeError, match="happy_eyeballs_delay"):
            check_delay(bad)
    for bad in [-1, -0.1, math.nan]:
        with pytest.raises(ValueError, match="happy_eyeballs_delay"):
            check_delay(bad)


# -- the staggered race ----------------------------------------------------------------------


class Resource:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


class Network:
    """Fake attempts: each takes a given time, then succeeds or fails. Records when
    each one started and which resources were opened and closed."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.opened: list[Resource] = []
        self.discarded: list[Resource] = []

    def attempt(
        self, name: str, seconds: float, succeeds: bool
    ) -> Callable[[], Awaitable[Resource]]:
        async def run() -> Resource:
            self.started[name] = nursery.current_time()
            resource = Resource(name)
            self.opened.append(resource)
            try:
                await nursery.sleep(seconds)
            except BaseException:
                resource.closed = True
                raise
            if not succeeds:
                resource.closed = True
                raise OSError(f"{name} failed")
            return resource

        return run

    def discard(self, resource: Resource) -> None:
        resource.closed = True
        self.discarded.append(resource)

    def open_resources(self) -> list[str]:
        return [r.name for r in self.opened if not r.closed]


async def test_first_attempt_wins_before_the_delay(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 0.1, True), net.attempt("b", 0.1, True)], 0.25, net.discard
    )
    assert result.winner is not None and result.winner.name == "a"
    assert result.winner_index == 0
    assert result.failures == []
    assert net.started == {"a": 0}  # b never started
    assert nursery.current_time() == 0.1


async def test_attempts_start_at_each_delay(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 1, True), net.attempt("b", 1, True), net.attempt("c", 0.2, True)],
        0.25,
        net.discard,
    )
    assert result.winner is not None and result.winner.name == "c"
    assert net.started == {"a": 0, "b": 0.25, "c": 0.5}
    assert nursery.current_time() == 0.7
    assert net.open_resources() == ["c"]  # the losers were cancelled and cleaned up


async def test_a_failure_starts_the_next_attempt_at_once(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [
            net.attempt("a", 0.1, False),
            net.attempt("b", 0.2, False),
            net.attempt("c", 10, False),
            net.attempt("d", 0.25, False),
        ],
        0.25,
        net.discard,
    )
    assert result.winner is None and result.winner_index is None
    assert net.started == {"a": 0, "b": 0.1, "c": 0.1 + 0.2, "d": 0.1 + 0.2 + 0.25}
    # failures in the order they happened, with their attempt's index
    assert [(i, str(e)) for i, e in result.failures] == [
        (0, "a failed"),
        (1, "b failed"),
        (3, "d failed"),
        (2, "c failed"),
    ]
    assert nursery.current_time() == 0.1 + 0.2 + 10
    assert net.open_resources() == []


async def test_infinite_delay_runs_one_attempt_at_a_time(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 5, False), net.attempt("b", 7, False), net.attempt("c", 1, True)],
        math.inf,
        net.discard,
    )
    assert result.winner is not None and result.winner.name == "c"
    assert net.started == {"a": 0, "b": 5, "c": 12}


async def test_zero_delay_starts_everything_at_once(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 3, True), net.attempt("b", 2, True), net.attempt("c", 1, True)],
        0,
        net.discard,
    )
    assert result.winner is not None and result.winner.name == "c"
    assert net.started == {"a": 0, "b": 0, "c": 0}
    assert net.open_resources() == ["c"]


async def test_simultaneous_winners_keep_one(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 1, True), net.attempt("b", 0.5, True)], 0.5, net.discard
    )
    # Both finish at t=1 in the same batch: one wins, the other is discarded.
    assert result.winner is not None
    assert net.open_resources() == [result.winner.name]
    assert len(net.discarded) <= 1
    assert nursery.current_time() == 1


async def test_a_winner_after_failures(autojump_clock: MockClock) -> None:
    net = Network()
    result = await staggered_race(
        [
            net.attempt("a", 10, False),
            net.attempt("b", 10, True),
            net.attempt("c", 9, True),
            net.attempt("d", 8, True),
            net.attempt("e", 0.5, False),
        ],
        1,
        net.discard,
    )
    assert result.winner is not None and result.winner.name in {"b", "c", "d"}
    assert net.started == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}
    assert [i for i, _ in result.failures] == [4, 0]  # e at t=4.5, a at t=10
    assert nursery.current_time() == 11  # b, c and d all finish at t=11
    assert net.open_resources() == [result.winner.name]


async def test_no_attempts(autojump_clock: MockClock) -> None:
    result = await staggered_race([], 0.25, Network().discard)
    assert result.winner is None and result.failures == []


@pytest.mark.parametrize("cancel_at", [0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.7, 10])
async def test_cancellation_leaves_nothing_open(
    cancel_at: float, autojump_clock: MockClock
) -> None:
    net = Network()
    with nursery.move_on_after(cancel_at) as scope:
        await staggered_race(
            [net.attempt("a", 1, False), net.attempt("b", 1, True), net.attempt("c", 0.2, True)],
            0.25,
            net.discard,
        )
    assert net.open_resources() == [] or not scope.cancelled_caught
    if scope.cancelled_caught:
        assert nursery.current_time() == cancel_at


async def test_cancelled_after_the_winner_returned_discards_it(
    autojump_clock: MockClock,
) -> None:
    # The winning attempt and an outside cancellation land in the same batch: the race
    # is cancelled, so the winner it already holds must be discarded, not leaked.
    net = Network()
    with nursery.move_on_after(1) as scope:
        await staggered_race([net.attempt("a", 1, True)], 0.25, net.discard)
    if scope.cancelled_caught:
        assert net.open_resources() == []
    else:
        assert net.open_resources() == ["a"]


async def test_a_crashing_attempt_cancels_the_rest(autojump_clock: MockClock) -> None:
    net = Network()

    async def crash() -> Resource:
        await nursery.sleep(0.5)
        raise RuntimeError("bug")

    with pytest.RaisesGroup(RuntimeError):
        await staggered_race([net.attempt("a", 10, True), crash], 0.25, net.discard)
    assert net.open_resources() == []
    assert nursery.current_time() == 0.75


async def test_zero_delay_and_an_instant_winner(autojump_clock: MockClock) -> None:
    # Attempts that finish at once: with no delay every attempt starts before any of
    # them runs, one wins, and the others are discarded.
    net = Network()
    result = await staggered_race(
        [net.attempt("a", 0, True), net.attempt("b", 0, True), net.attempt("c", 0, True)],
        0,
        net.discard,
    )
    assert result.winner is not None
    assert net.open_resources() == [result.winner.name]


async def test_a_crash_in_the_same_batch_as_a_win_discards_the_winner(
    autojump_clock: MockClock,
) -> None:
    net = Network()

    async def crash_at_one() -> Resource:
        await nursery.sleep(0.75)  # started at 0.25: ends at t=1, with the winner
        raise RuntimeError("bug")

    with pytest.RaisesGroup(RuntimeError):
        await staggered_race([net.attempt("a", 1, True), crash_at_one], 0.25, net.discard)
    assert net.open_resources() == []
    assert [r.name for r in net.discarded] == ["a"]
