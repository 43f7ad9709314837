"""Objects users create can be weakly referenced, as in Trio: libraries keep per-lock
or per-scope state in ``weakref.WeakKeyDictionary`` / ``WeakSet``."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import pytest

import nursery
from nursery.lowlevel import ParkingLot, RunVar

MAKERS: dict[str, Callable[[], object]] = {
    "Event": nursery.Event,
    "Lock": nursery.Lock,
    "StrictFIFOLock": nursery.StrictFIFOLock,
    "Semaphore": lambda: nursery.Semaphore(1),
    "CapacityLimiter": lambda: nursery.CapacityLimiter(1),
    "Condition": nursery.Condition,
    "CancelScope": nursery.CancelScope,
    "ParkingLot": ParkingLot,
    "RunVar": lambda: RunVar("example"),
    "MemorySendChannel": lambda: nursery.open_memory_channel[int](1)[0],
    "MemoryReceiveChannel": lambda: nursery.open_memory_channel[int](1)[1],
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_user_created_objects_can_be_weakly_referenced(name: str) -> None:
    obj = MAKERS[name]()
    ref = weakref.ref(obj)
    assert ref() is obj
    registry: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()
    registry[obj] = "state"
    del obj
    gc.collect()
    assert ref() is None
    assert len(registry) == 0
