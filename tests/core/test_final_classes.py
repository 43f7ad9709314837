"""Objects the runtime owns cannot be built by users, and the kernel's classes cannot
be subclassed (their invariants are the kernel's)."""

from __future__ import annotations

import pytest

import nursery
from nursery.lowlevel import ParkingLot, RunToken, RunVar, Task

RUNTIME_OWNED = [Task, nursery.Nursery, RunToken, nursery.Cancelled]
FINAL = [*RUNTIME_OWNED, nursery.CancelScope, ParkingLot, RunVar]


@pytest.mark.parametrize("cls", RUNTIME_OWNED, ids=lambda cls: cls.__name__)
def test_runtime_owned_objects_have_no_public_constructor(cls: type) -> None:
    with pytest.raises(TypeError, match="no public constructor"):
        cls()


@pytest.mark.parametrize("cls", FINAL, ids=lambda cls: cls.__name__)
def test_kernel_classes_cannot_be_subclassed(cls: type) -> None:
    with pytest.raises(TypeError, match="does not support subclassing"):
        type("Sub", (cls,), {})


async def test_the_runtime_still_builds_them() -> None:
    async with nursery.open_nursery() as n:
        assert isinstance(n, nursery.Nursery)
        assert isinstance(nursery.lowlevel.current_task(), Task)
        assert isinstance(nursery.lowlevel.current_token(), RunToken)
