"""The two interfaces the kernel calls out to: clocks and instruments."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._task import Task


class Clock(ABC):
    """Where a run gets its time from. The default measures real time; tests use
    ``nursery.testing.MockClock``."""

    __slots__ = ()

    @abstractmethod
    def start_clock(self) -> None:
        """Called once, at the start of the run."""

    @abstractmethod
    def current_time(self) -> float:
        """The current time, in seconds, on this clock's own scale."""

    @abstractmethod
    def deadline_to_sleep_time(self, deadline: float) -> float:
        """How many real seconds the loop may sleep before ``deadline`` comes (0 if it
        has passed)."""


class Instrument(ABC):  # noqa: B024 - every hook is optional, none abstract
    """Watches a run from inside. Override only the hooks you need; the kernel calls
    just the ones a subclass defines, so an instrument costs nothing where it is silent.
    An instrument whose hook raises is removed from the run, and the error logged."""

    __slots__ = ()

    def before_run(self) -> None:
        """The run is starting."""

    def after_run(self) -> None:
        """The run is ending."""

    def task_spawned(self, task: Task) -> None:
        """``task`` was created."""

    def task_scheduled(self, task: Task) -> None:
        """``task`` became runnable."""

    def before_task_step(self, task: Task) -> None:
        """``task`` is about to run a step."""

    def after_task_step(self, task: Task) -> None:
        """``task`` finished a step."""

    def task_exited(self, task: Task) -> None:
        """``task`` finished."""

    def before_io_wait(self, timeout: float) -> None:
        """The loop is about to wait for I/O for at most ``timeout`` seconds."""

    def after_io_wait(self, timeout: float) -> None:
        """The loop is back from waiting for I/O."""
