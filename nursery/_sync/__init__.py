"""Synchronization primitives: Event, Lock, StrictFIFOLock, Condition, Semaphore and
CapacityLimiter, all built on ParkingLot, all FIFO-fair."""

from ._event import Event as Event
from ._event import EventStatistics as EventStatistics
from ._lock import Condition as Condition
from ._lock import ConditionStatistics as ConditionStatistics
from ._lock import Lock as Lock
from ._lock import LockStatistics as LockStatistics
from ._lock import StrictFIFOLock as StrictFIFOLock
from ._semaphore import CapacityLimiter as CapacityLimiter
from ._semaphore import CapacityLimiterStatistics as CapacityLimiterStatistics
from ._semaphore import Semaphore as Semaphore
