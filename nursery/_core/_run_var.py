"""RunVar: a variable with one value per run (the run-wide cousin of a ContextVar)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast, final

from ._context import current_runner
from ._ki import enable_ki_protection
from ._util import Final, NoPublicConstructor

T = TypeVar("T")
_NO_DEFAULT: Any = object()


@final
class RunVarToken(Generic[T], metaclass=NoPublicConstructor):
    """Returned by ``RunVar.set``; give it to ``RunVar.reset`` to undo that ``set``."""

    __slots__ = ("_var", "old_value", "redeemed")

    def __init__(self, var: RunVar[T], old_value: T) -> None:
        self._var = var
        self.old_value = old_value
        self.redeemed = False

    @property
    def var(self) -> RunVar[T]:
        return self._var

    @property
    def previous_value(self) -> T:
        """The value the var had before the ``set`` that made this token (Trio's name;
        ``old_value`` is the same, named as in ``contextvars.Token``). A private marker
        if it had none."""
        return self.old_value


@final
class RunVar(Generic[T], metaclass=Final):
    """Like ``contextvars.ContextVar``, but one value for the whole run rather than one
    per task: for state a library keeps per run (a cache, a thread pool)."""

    __slots__ = ("__weakref__", "_default", "_name")

    def __init__(self, name: str, default: T = _NO_DEFAULT) -> None:
        self._name = name
        self._default = default

    @property
    def name(self) -> str:
        return self._name

    def get(self, default: T = _NO_DEFAULT) -> T:
        """The value in the current run; else ``default``, else the var's default; else
        ``LookupError``. ``RuntimeError`` outside a run."""
        run_vars = current_runner().run_vars
        if self in run_vars:
            return cast(T, run_vars[self])
        if default is not _NO_DEFAULT:
            return default
        if self._default is not _NO_DEFAULT:
            return self._default
        raise LookupError(f"RunVar {self._name!r} has no value in this run")

    @enable_ki_protection
    def set(self, value: T) -> RunVarToken[T]:
        """Set the value for the rest of this run; the token undoes it."""
        run_vars = current_runner().run_vars
        old = run_vars.get(self, _NO_DEFAULT)
        run_vars[self] = value
        return cast("RunVarToken[T]", RunVarToken._create(self, old))

    @enable_ki_protection
    def reset(self, token: RunVarToken[T]) -> None:
        """Restore the value this var had before ``set`` returned ``token``."""
        if not isinstance(token, RunVarToken):
            raise TypeError(f"RunVar.reset() expected a RunVarToken, got {token!r}")
        if token._var is not self:
            raise ValueError(f"this token was created by another RunVar ({token._var!r})")
        if token.redeemed:
            raise ValueError("this token has already been used")
        run_vars = current_runner().run_vars
        if token.old_value is _NO_DEFAULT:
            run_vars.pop(self, None)
        else:
            run_vars[self] = token.old_value
        token.redeemed = True

    def __repr__(self) -> str:
        return f"<RunVar name={self._name!r}>"
