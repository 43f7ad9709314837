"""Exception groups out of nurseries: Cancelled stripped by the scope that caused it,
non-strict nurseries, and the errors of ``start()``."""

from __future__ import annotations

import traceback

import pytest

import nursery
from nursery.lowlevel import checkpoint, current_task
from nursery.testing import wait_all_tasks_blocked


def leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        found: list[BaseException] = []
        for child in exc.exceptions:
            found.extend(leaves(child))
        return found
    return [exc]


def frame_names(exc: BaseException) -> list[str]:
    return [summary.name for summary in traceback.extract_tb(exc.__traceback__)]


async def fails_when_cancelled(note: str | None = None) -> None:
    try:
        await nursery.sleep_forever()
    except nursery.Cancelled:
        error = ValueError("clean-up failed")
        if note is not None:
            error.add_note(note)
        raise error from None


# ---------------------------------------------------------------- stripping Cancelled


async def test_mixed_nested_groups_keep_their_real_errors_with_tracebacks_and_notes() -> None:
    cause = KeyError("why the inner family failed")

    async def inner_family() -> None:
        try:
            async with nursery.open_nursery() as inner:
                inner.start_soon(nursery.sleep_forever)
                inner.start_soon(fails_when_cancelled, "leaf note")
        except BaseExceptionGroup as group:
            group.add_note("inner family note")
            raise group from cause

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as outer:
                outer.start_soon(nursery.sleep_forever)
                outer.start_soon(inner_family)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught

    top = info.value
    assert len(top.exceptions) == 1
    (inner_group,) = top.exceptions
    assert isinstance(inner_group, ExceptionGroup)
    (leaf,) = inner_group.exceptions
    assert isinstance(leaf, ValueError)

    # The leaf is the very exception the child raised, untouched.
    assert leaf.__notes__ == ["leaf note"]
    assert "fails_when_cancelled" in frame_names(leaf)
    # The rebuilt inner group kept its notes, cause and traceback.
    assert inner_group.__notes__ == ["inner family note"]
    assert inner_group.__cause__ is cause
    assert "inner_family" in frame_names(inner_group)
    # And so did the rebuilt outer group.
    assert "test_mixed_nested_groups_keep_their_real_errors_with_tracebacks_and_notes" in (
        frame_names(top)
    )


async def test_rebuilt_group_keeps_its_context() -> None:
    context = LookupError("was being handled")

    async def raises_group_during_handling() -> None:
        try:
            async with nursery.open_nursery() as inner:
                inner.start_soon(nursery.sleep_forever)
                inner.start_soon(fails_when_cancelled)
        except BaseExceptionGroup as group:
            try:
                raise context
            except LookupError:
                raise group  # noqa: B904 - the context is the point of the test

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as outer:
                outer.start_soon(raises_group_during_handling)
                await wait_all_tasks_blocked()
                scope.cancel()
    (inner_group,) = info.value.exceptions
    assert isinstance(inner_group, ExceptionGroup)
    assert [type(e) for e in inner_group.exceptions] == [ValueError]
    assert inner_group.__context__ is context


async def test_subgroups_without_cancelled_are_kept_as_they_are() -> None:
    untouched = ExceptionGroup("raised by user code", [OSError(1, "a"), OSError(2, "b")])

    async def raises_own_group() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            raise untouched from None

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                n.start_soon(nursery.sleep_forever)
                n.start_soon(raises_own_group)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught
    # Cancelled was taken out of the nursery's group; the user's group is the same
    # object, not a copy.
    (only,) = info.value.exceptions
    assert only is untouched


async def test_nested_groups_of_only_cancelled_vanish_entirely() -> None:
    async def family() -> None:
        async with nursery.open_nursery() as inner:
            for _ in range(3):
                inner.start_soon(nursery.sleep_forever)

    with nursery.CancelScope() as scope:
        async with nursery.open_nursery() as outer:
            outer.start_soon(family)
            outer.start_soon(family)
            await wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught


async def test_only_the_cancelled_scope_strips_cancelled() -> None:
    # An inner scope that was not cancelled lets the group through untouched; the
    # outer scope, whose cancellation it was, takes the Cancelled out.
    seen_between: list[BaseExceptionGroup[BaseException]] = []

    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as outer:
            try:
                with nursery.CancelScope() as inner:
                    async with nursery.open_nursery() as n:
                        n.start_soon(nursery.sleep_forever)
                        n.start_soon(fails_when_cancelled)
                        await wait_all_tasks_blocked()
                        outer.cancel()
            except BaseExceptionGroup as group:
                seen_between.append(group)
                raise
    assert not inner.cancelled_caught
    assert outer.cancelled_caught
    (between,) = seen_between
    assert sorted(type(e).__name__ for e in leaves(between)) == ["Cancelled", "ValueError"]
    assert [type(e) for e in leaves(info.value)] == [ValueError]


async def test_shielded_scope_catches_only_its_own_cancellation() -> None:
    # Cancelled raised in a shielded scope only if the shielded scope itself was
    # cancelled: here the inner scope is the cancelled one, and catches it.
    with nursery.CancelScope() as outer:
        with nursery.CancelScope(shield=True) as inner:
            outer.cancel()
            await checkpoint()  # shielded: nothing happens
            inner.cancel()
            await checkpoint()
        assert inner.cancelled_caught
        with pytest.raises(nursery.Cancelled):
            await checkpoint()
        await checkpoint()
    assert outer.cancelled_caught


async def test_plain_error_leaving_a_cancelled_scope_is_not_caught() -> None:
    with pytest.raises(ValueError, match="not a cancellation"):
        with nursery.CancelScope() as scope:
            scope.cancel()
            raise ValueError("not a cancellation")
    assert scope.cancel_called
    assert not scope.cancelled_caught


async def test_group_without_cancelled_leaving_a_cancelled_scope_is_not_caught() -> None:
    group = ExceptionGroup("no cancellation here", [ValueError(1)])
    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            scope.cancel()
            raise group
    assert info.value is group
    assert not scope.cancelled_caught


async def test_keyboard_interrupt_in_a_group_survives_stripping() -> None:
    async def interrupted() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            raise KeyboardInterrupt from None

    with pytest.raises(BaseExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery() as n:
                n.start_soon(nursery.sleep_forever)
                n.start_soon(interrupted)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert [type(e) for e in leaves(info.value)] == [KeyboardInterrupt]
    # Still a BaseExceptionGroup: it holds a BaseException.
    assert not isinstance(info.value, ExceptionGroup)


# ---------------------------------------------------------------- non-strict nurseries


async def test_non_strict_nursery_raises_a_single_child_error_unwrapped() -> None:
    async def fail() -> None:
        raise ValueError("alone")

    with pytest.raises(ValueError, match="alone"):
        async with nursery.open_nursery(strict_exception_groups=False) as n:
            n.start_soon(fail)


async def test_non_strict_nursery_raises_a_single_body_error_unwrapped() -> None:
    with pytest.raises(KeyError):
        async with nursery.open_nursery(strict_exception_groups=False):
            raise KeyError("body")


async def test_non_strict_nursery_groups_several_errors_with_a_note() -> None:
    async def fail(exc: Exception) -> None:
        raise exc

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery(strict_exception_groups=False) as n:
            n.start_soon(fail, ValueError("a"))
            n.start_soon(fail, KeyError("b"))
    assert sorted(type(e).__name__ for e in info.value.exceptions) == ["KeyError", "ValueError"]
    (note,) = info.value.__notes__
    assert "strict_exception_groups=False" in note


async def test_strict_nursery_groups_carry_no_note() -> None:
    async def fail(exc: Exception) -> None:
        raise exc

    with pytest.raises(ExceptionGroup) as info:
        async with nursery.open_nursery() as n:
            n.start_soon(fail, ValueError("a"))
            n.start_soon(fail, KeyError("b"))
    assert getattr(info.value, "__notes__", None) is None


async def test_non_strict_nursery_cancelled_alone_is_caught_by_its_scope() -> None:
    with nursery.CancelScope() as scope:
        async with nursery.open_nursery(strict_exception_groups=False) as n:
            n.start_soon(nursery.sleep_forever)
            await wait_all_tasks_blocked()
            scope.cancel()
            await checkpoint()
    assert scope.cancelled_caught


async def test_non_strict_group_left_with_one_error_after_stripping_unwraps_it() -> None:
    # As in Trio: the loose group held [ValueError, Cancelled]; with the Cancelled gone,
    # the lone error comes out on its own.
    with pytest.raises(ValueError, match="clean-up failed"):
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery(strict_exception_groups=False) as n:
                n.start_soon(nursery.sleep_forever)
                n.start_soon(fails_when_cancelled)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught


async def test_non_strict_group_keeps_its_note_after_cancelled_is_stripped() -> None:
    with pytest.raises(ExceptionGroup) as info:
        with nursery.CancelScope() as scope:
            async with nursery.open_nursery(strict_exception_groups=False) as n:
                n.start_soon(nursery.sleep_forever)
                n.start_soon(fails_when_cancelled)
                n.start_soon(fails_when_cancelled)
                await wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught
    assert [type(e) for e in info.value.exceptions] == [ValueError, ValueError]
    (note,) = info.value.__notes__
    assert "strict_exception_groups=False" in note


def test_run_sets_the_default_for_nurseries() -> None:
    async def fail() -> None:
        raise ValueError("unwrapped")

    async def main() -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(fail)

    with pytest.raises(ValueError, match="unwrapped"):
        nursery.run(main, strict_exception_groups=False)
    with pytest.raises(ExceptionGroup):
        nursery.run(main)


def test_nursery_argument_overrides_the_runs_default() -> None:
    async def fail() -> None:
        raise ValueError("wrapped anyway")

    async def main() -> None:
        async with nursery.open_nursery(strict_exception_groups=True) as n:
            n.start_soon(fail)

    with pytest.raises(ExceptionGroup):
        nursery.run(main, strict_exception_groups=False)


# ---------------------------------------------------------------- start()


async def test_started_after_start_was_cancelled_does_not_move_the_child() -> None:
    log: list[object] = []

    async def child(*, task_status: nursery.TaskStatus[str]) -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            task_status.started("late")
            log.append(("started", current_task().parent_nursery is target))

    async with nursery.open_nursery() as target:
        with nursery.CancelScope() as scope:
            scope.cancel()
            value = await target.start(child)
            log.append(("start returned", value, len(target.child_tasks)))
            await checkpoint()
        assert scope.cancelled_caught
    # The child stayed where it was (it finished inside start()), and start() still
    # returned the value it was given.
    assert log == [("started", False), ("start returned", "late", 0)]


async def test_started_after_the_target_nursery_closed_is_a_runtime_error() -> None:
    stash: list[nursery.TaskStatus[None]] = []

    async def walks_away(*, task_status: nursery.TaskStatus[None]) -> None:
        stash.append(task_status)

    async with nursery.open_nursery() as target:
        with pytest.raises(RuntimeError, match="without calling started"):
            await target.start(walks_away)
    (status,) = stash
    with pytest.raises(RuntimeError, match="closed"):
        status.started()


async def test_start_into_a_closed_nursery_is_a_runtime_error() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        task_status.started()  # pragma: no cover

    async with nursery.open_nursery() as target:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await target.start(child)


async def test_start_with_several_errors_before_started_is_an_internal_error() -> None:
    # The task being started reaches the private nursery start() runs it in, and
    # spawns a sibling there: two errors can then come out of start() at once.
    async def sibling() -> None:
        raise KeyError("sibling")

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        private = current_task().parent_nursery
        assert private is not None
        private.start_soon(sibling)
        # The sibling's error cancels the private nursery; fail while unwinding.
        await fails_when_cancelled()

    async with nursery.open_nursery() as target:
        with pytest.raises(nursery.InternalError) as info:
            await target.start(child)
    group = info.value.__cause__
    assert isinstance(group, BaseExceptionGroup)
    assert sorted(type(e).__name__ for e in leaves(group)) == ["KeyError", "ValueError"]


async def test_start_raises_a_group_from_the_child_as_it_is() -> None:
    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        async with nursery.open_nursery() as own:
            own.start_soon(fails_when_cancelled)
            own.start_soon(fails_when_cancelled)
            await wait_all_tasks_blocked()
            own.cancel_scope.cancel()

    async with nursery.open_nursery() as target:
        with pytest.raises(ExceptionGroup) as info:
            await target.start(child)
    assert [type(e) for e in info.value.exceptions] == [ValueError, ValueError]


async def test_scopes_the_started_task_opened_follow_it_to_the_new_nursery() -> None:
    events: list[str] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        with nursery.CancelScope():
            task_status.started()
            try:
                await nursery.sleep_forever()
            except nursery.Cancelled:
                events.append("child cancelled")
                raise

    async with nursery.open_nursery() as target:

        async def starter() -> None:
            with nursery.CancelScope() as caller_scope:
                await target.start(child)
                # The child has moved: cancelling the scope around start() no longer
                # reaches it, not even through the scope it opened while starting.
                caller_scope.cancel()
                await checkpoint()
            events.append("caller scope done")

        async with nursery.open_nursery() as callers:
            callers.start_soon(starter)
        await wait_all_tasks_blocked()
        assert events == ["caller scope done"]
        assert len(target.child_tasks) == 1
        target.cancel_scope.cancel()
    assert events == ["caller scope done", "child cancelled"]


async def test_tasks_spawned_before_started_move_with_the_started_task() -> None:
    events: list[str] = []

    async def helper() -> None:
        try:
            await nursery.sleep_forever()
        except nursery.Cancelled:
            events.append("helper cancelled")
            raise

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        private = current_task().parent_nursery
        assert private is not None
        private.start_soon(helper)
        await wait_all_tasks_blocked()
        task_status.started()
        await nursery.sleep_forever()

    async with nursery.open_nursery() as target:
        await target.start(child)
        assert len(target.child_tasks) == 2
        await wait_all_tasks_blocked()
        assert events == []
        target.cancel_scope.cancel()
    assert events == ["helper cancelled"]


def test_task_status_ignored_has_a_readable_repr() -> None:
    assert repr(nursery.TASK_STATUS_IGNORED) == "TASK_STATUS_IGNORED"
    nursery.TASK_STATUS_IGNORED.started("ignored")


async def test_task_status_repr_names_the_target_nursery() -> None:
    reprs: list[str] = []

    async def child(*, task_status: nursery.TaskStatus[None]) -> None:
        reprs.append(repr(task_status))
        task_status.started()

    async with nursery.open_nursery() as target:
        await target.start(child)
    (text,) = reprs
    assert repr(target) in text


async def test_open_nursery_with_plain_with_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        with nursery.open_nursery():
            pass  # pragma: no cover


async def test_a_loose_nursery_left_with_one_error_after_cancellation_unwraps_it() -> None:
    # Trio: a strict_exception_groups=False nursery raises [error, Cancelled]; once the
    # cancelled scope outside strips the Cancelled, the lone error comes out unwrapped.
    async def fail() -> None:
        raise RuntimeError("inner")

    with pytest.RaisesGroup(RuntimeError, RuntimeError):
        async with nursery.open_nursery() as outer:
            outer.start_soon(fail)
            async with nursery.open_nursery(strict_exception_groups=False) as inner:
                inner.start_soon(nursery.sleep_forever)
                inner.start_soon(fail)
                outer.cancel_scope.cancel()
