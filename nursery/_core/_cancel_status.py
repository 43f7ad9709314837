"""How cancellation spreads: the cancel-status tree.

Each entered ``CancelScope`` owns one ``CancelStatus``; the statuses form a tree that
mirrors how scopes nest, across tasks (a nursery's children hang below the scope that
was open where the nursery was opened). Every task points at exactly one status, its
innermost. ``effectively_cancelled`` is the level that every checkpoint reads:

    effectively_cancelled = scope.cancel_called
                            or (not scope.shield and parent.effectively_cancelled)

Only ``recalculate`` changes it, and it walks the tree with an explicit stack, never by
recursion, so a chain of thousands of nested nurseries cancels at any recursion limit.
Where a cancellation *starts* (``cancel()``, deadlines) lives in ``_cancel_scope``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._exceptions import CancelReason
from ._task import CancelRaiser

if TYPE_CHECKING:
    from ._cancel_scope import CancelScope
    from ._task import Task

_UNKNOWN_REASON = CancelReason("unknown")


class CancelStatus:
    __slots__ = ("abandoned", "children", "effectively_cancelled", "parent", "scope", "tasks")

    def __init__(self, scope: CancelScope, parent: CancelStatus | None) -> None:
        self.scope = scope
        self.parent = parent
        self.children: set[CancelStatus] = set()
        self.tasks: set[Task] = set()
        # Set when an enclosing scope exited first (misnesting): our own exit is then a
        # quiet clean-up, since the enclosing exit already raised the error.
        self.abandoned = False
        self.effectively_cancelled: bool = scope._cancel_called or (
            parent is not None and not scope._shield and parent.effectively_cancelled
        )
        if parent is not None:
            parent.children.add(self)

    @property
    def parent_cancellation_is_visible_to_us(self) -> bool:
        return (
            self.parent is not None and not self.scope._shield and self.parent.effectively_cancelled
        )

    def close(self) -> None:
        """Detach from the tree when the scope exits; children re-hang on our parent."""
        parent = self.parent
        if parent is not None:
            parent.children.discard(self)
        if not self.children:
            return
        orphans, self.children = self.children, set()
        for child in orphans:
            # Only reached after misnesting: a child scope outlived its parent.
            child.parent = parent
            if parent is not None:
                parent.children.add(child)
            recalculate(child)

    def encloses(self, other: CancelStatus | None) -> bool:
        while other is not None:
            if other is self:
                return True
            other = other.parent
        return False

    def cancel_reason(self) -> CancelReason:
        """The reason of the scope whose cancellation reaches this status: the outermost
        cancelled one that no shield hides."""
        status = self
        while status.parent_cancellation_is_visible_to_us:
            status = status.parent  # type: ignore[assignment]
        return status.scope._cancel_reason or _UNKNOWN_REASON

    def effective_deadline(self) -> float:
        """The earliest deadline among the scopes this status can see."""
        deadline = self.scope._deadline
        status = self
        while not status.scope._shield and status.parent is not None:
            status = status.parent
            if status.scope._deadline < deadline:
                deadline = status.scope._deadline
        return deadline


def recalculate(root: CancelStatus) -> None:
    """Bring ``effectively_cancelled`` up to date below ``root`` (after a cancel or a
    shield change), delivering the cancellation to every task that just became
    cancelled. Iterative: the tree may be thousands of levels deep.

    A status that becomes cancelled because its parent is has the parent's reason, so
    the reason found once at the top is handed down rather than looked up again at every
    level (which would make cancelling a deep chain quadratic)."""
    # Each entry: a status, and the raiser of its parent's cancellation (if known).
    todo: list[tuple[CancelStatus, CancelRaiser | None]] = [(root, None)]
    while todo:
        status, inherited = todo.pop()
        parent = status.parent
        scope = status.scope
        from_parent = parent is not None and not scope._shield and parent.effectively_cancelled
        new_state = from_parent or scope._cancel_called
        if new_state == status.effectively_cancelled:
            continue
        status.effectively_cancelled = new_state
        raiser: CancelRaiser | None = None
        if new_state:
            if from_parent and inherited is not None:
                raiser = inherited
            else:
                raiser = CancelRaiser(status.cancel_reason())
            for task in list(status.tasks):
                task._attempt_delivery_of_any_pending_cancel(raiser)
        for child in status.children:
            todo.append((child, raiser))
