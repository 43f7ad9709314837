"""Shared fixtures for the subprocess tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import nursery._subprocess._exit as exit_module


@pytest.fixture(params=["pidfd", "thread"])
def exit_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once with pidfds, once with the waiter-thread fallback forced."""
    if request.param == "thread":
        monkeypatch.setattr(exit_module, "pidfd_open", None)
    elif exit_module.pidfd_open is None:
        pytest.skip("this kernel or Python has no pidfd_open")
    yield request.param
