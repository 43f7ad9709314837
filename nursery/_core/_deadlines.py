"""Pending deadlines: a binary heap with lazy deletion.

An owner (a cancel scope with a deadline, or a task in ``sleep``) holds the sequence
number of its one live entry in ``_deadline_seq``. Changing or dropping a deadline just
changes that number; stale entries are skipped when they reach the top of the heap, and
the heap is rebuilt when stale entries outnumber live ones. Adding, moving and removing
a deadline are therefore O(log n) or O(1), with no search.
"""

from __future__ import annotations

import heapq
from typing import Protocol


class DeadlineOwner(Protocol):
    _deadline_seq: int

    def _deadline_expired(self) -> None: ...


class Deadlines:
    __slots__ = ("_live", "_seq", "heap")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, DeadlineOwner]] = []
        self._seq = 0
        self._live = 0

    def add(self, deadline: float, owner: DeadlineOwner) -> None:
        """Register ``owner``'s deadline, replacing any earlier one it had."""
        if owner._deadline_seq:
            self._live -= 1
        self._seq += 1
        owner._deadline_seq = self._seq
        self._live += 1
        heapq.heappush(self.heap, (deadline, self._seq, owner))
        if len(self.heap) > 2 * self._live + 64:
            self._compact()

    def remove(self, owner: DeadlineOwner) -> None:
        if owner._deadline_seq:
            owner._deadline_seq = 0
            self._live -= 1

    def next_deadline(self) -> float:
        heap = self.heap
        while heap:
            deadline, seq, owner = heap[0]
            if owner._deadline_seq == seq:
                return deadline
            heapq.heappop(heap)
        return float("inf")

    def expire(self, now: float) -> bool:
        """Fire every deadline at or before ``now``; say whether any fired."""
        heap = self.heap
        fired = False
        while heap and heap[0][0] <= now:
            _, seq, owner = heapq.heappop(heap)
            if owner._deadline_seq == seq:
                owner._deadline_seq = 0
                self._live -= 1
                owner._deadline_expired()
                fired = True
        return fired

    def _compact(self) -> None:
        self.heap = [entry for entry in self.heap if entry[2]._deadline_seq == entry[1]]
        heapq.heapify(self.heap)
