"""Unwrapping the exception group of a nursery that a context manager hides inside.

A context manager such as ``as_safe_channel`` runs the caller's block inside a nursery
of its own. The caller did not open that nursery and should not have to catch groups
because of it: an exception raised in the block must come out of the ``async with`` as
it went in. So the group is unwrapped when it holds a single real error.
"""

from __future__ import annotations

from typing import NoReturn

from ._core._exceptions import Cancelled

MANY_ERRORS_NOTE = (
    "nursery: several errors happened at once inside this context manager (in its "
    "background tasks and/or its block), so they are raised together in this group"
)


def raise_single_error(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the one error of ``group`` that is not ``Cancelled``, as it is; if there
    are only ``Cancelled``, raise the first (the enclosing scope that was cancelled
    catches it); if there are several errors, raise the group itself, with a note.

    Nested groups are not looked into: one is an error of its own (from a nursery in
    the caller's block, say), and is raised as such.
    """
    errors = [exc for exc in group.exceptions if not isinstance(exc, Cancelled)]
    if len(errors) > 1:
        group.add_note(MANY_ERRORS_NOTE)
        raise group
    single = errors[0] if errors else group.exceptions[0]
    # Raising inside the caller's ``except`` clause would set the group as the
    # error's context, a lie (the group came from the error, not the other way round)
    # and a reference cycle. Restore the context the error had.
    context = single.__context__
    try:
        raise single
    finally:
        single.__context__ = context
        del single, context
