"""Shared fixtures for the synchronization-primitive tests."""

from __future__ import annotations

import pytest
from sync_helpers import StepHook


@pytest.fixture
def step_hook() -> StepHook:
    """A StepHook installed in the test's run (the plugin installs any Instrument
    fixture)."""
    return StepHook()
