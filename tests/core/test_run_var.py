"""RunVar: a variable whose value is shared by all tasks of one run."""

from __future__ import annotations

import pytest

import nursery
from nursery.lowlevel import RunVar

plain: RunVar[str] = RunVar("plain")
with_default: RunVar[str] = RunVar("with_default", default="the default")


async def test_get_without_a_value_or_default_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        plain.get()


async def test_get_falls_back_to_the_default() -> None:
    assert with_default.get() == "the default"


async def test_get_argument_overrides_the_default() -> None:
    assert with_default.get("call-site default") == "call-site default"
    assert plain.get("call-site default") == "call-site default"


async def test_set_then_get() -> None:
    plain.set("value")
    assert plain.get() == "value"
    assert plain.get("ignored") == "value"


async def test_value_is_shared_between_tasks() -> None:
    # Unlike a ContextVar, a value set in a child is seen by its parent.
    async def child() -> None:
        plain.set("set by child")

    async with nursery.open_nursery() as n:
        n.start_soon(child)
    assert plain.get() == "set by child"


def test_value_does_not_leak_into_the_next_run() -> None:
    async def set_it() -> None:
        plain.set("first run")
        with_default.set("first run")

    async def read_it() -> tuple[str, str]:
        return plain.get("missing"), with_default.get()

    nursery.run(set_it)
    assert nursery.run(read_it) == ("missing", "the default")


async def test_reset_restores_the_previous_value() -> None:
    plain.set("old")
    token = plain.set("new")
    plain.reset(token)
    assert plain.get() == "old"


async def test_reset_to_unset() -> None:
    token = plain.set("temporary")
    plain.reset(token)
    with pytest.raises(LookupError):
        plain.get()
    token = with_default.set("temporary")
    with_default.reset(token)
    assert with_default.get() == "the default"


async def test_token_can_be_used_only_once() -> None:
    token = plain.set("x")
    plain.reset(token)
    with pytest.raises(ValueError):
        plain.reset(token)


async def test_token_of_another_var_is_rejected() -> None:
    token = with_default.set("x")
    with pytest.raises(ValueError):
        plain.reset(token)


def test_run_var_outside_a_run_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        with_default.get()
    with pytest.raises(RuntimeError):
        plain.set("x")
