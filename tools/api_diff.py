"""Compare nursery's public namespace with Trio's, name by name.

For every public name (not starting with ``_``) of the Trio modules in ``MODULES`` it
reports whether nursery has it under the same name, under a new name (``RENAMED``), or
not at all, and whether the absence is a deliberate difference listed in
docs/porting.md (``DELIBERATE``). For names present on both sides it also compares:

* function and method signatures: parameter names, kinds and defaults;
* classes: public members, a few protocol dunders (``__aenter__``, ``__aiter__``, ...),
  abstract methods, and the public Trio base classes (``SocketStream`` must be a
  ``HalfCloseableStream``) and builtin ones (an exception that is an ``OSError``).

Usage (from the repository root, with Trio installed)::

    python tools/api_diff.py              # summary, then every gap
    python tools/api_diff.py --summary    # the summary table only
    python tools/api_diff.py --check      # exit 1 if a gap is not listed as deliberate

The reference is whatever Trio is installed; nursery targets Trio 0.35.
"""

from __future__ import annotations
import __future__

import argparse
import ast
import enum
import importlib
import inspect
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Trio module -> nursery module.
MODULES: dict[str, str] = {
    "trio": "nursery",
    "trio.lowlevel": "nursery.lowlevel",
    "trio.testing": "nursery.testing",
    "trio.abc": "nursery.abc",
    "trio.socket": "nursery.socket",
    "trio.to_thread": "nursery.to_thread",
    "trio.from_thread": "nursery.from_thread",
}

# Names that said "trio" and lost it (docs/porting.md, "Renamed names"). Keys and values
# are full dotted names.
RENAMED: dict[str, str] = {
    "trio.TrioInternalError": "nursery.InternalError",
    "trio.TrioDeprecationWarning": "nursery.NurseryDeprecationWarning",
    "trio.lowlevel.TrioToken": "nursery.lowlevel.RunToken",
    "trio.lowlevel.current_trio_token": "nursery.lowlevel.current_token",
    "trio.lowlevel.in_trio_run": "nursery.lowlevel.in_run",
    "trio.lowlevel.in_trio_task": "nursery.lowlevel.in_task",
    "trio.testing.trio_test": "nursery.testing.nursery_test",
}

# Parameters renamed along with the names above: (trio function, trio parameter) ->
# nursery parameter.
RENAMED_PARAMETERS: dict[tuple[str, str], str] = {
    ("trio.from_thread.run", "trio_token"): "token",
    ("trio.from_thread.run_sync", "trio_token"): "token",
}

# Absent on purpose, with the reason docs/porting.md gives. A name listed here and
# present in nursery after all is reported as such (the list went stale).
DELIBERATE: dict[str, str] = {
    "trio.WindowsPath": "Linux only",
    "trio.lowlevel.UnboundedQueue": "deprecated in Trio; use a memory channel",
    "trio.lowlevel.UnboundedQueueStatistics": "deprecated in Trio with UnboundedQueue",
}

# Mismatches that are deliberate differences (docs/porting.md), as "trio name: problem"
# exactly as this tool words it -> the reason.
ACCEPTED: dict[str, str] = {
    "trio.lowlevel.RunStatistics: constructor: extra required parameter: seed": (
        "RunStatistics reports the scheduler's seed (run(random_seed=...))"
    ),
    "trio.lowlevel.reschedule: parameter next_send: default Value(None), Trio's is "
    "<sentinel>": "the same meaning: Trio's marker stands for Value(None)",
    "trio.Path: member missing: link_to": "removed from pathlib in Python 3.12",
    "trio.PosixPath: member missing: link_to": "removed from pathlib in Python 3.12",
}

# Trio names that are artefacts of how its modules are written, not API (besides the
# `annotations` that `from __future__ import annotations` leaves in a module's dir()).
IGNORED: set[str] = set()

# Protocol dunders worth comparing on classes: a missing one changes how the class is used.
PROTOCOL_DUNDERS = (
    "__enter__",
    "__exit__",
    "__aenter__",
    "__aexit__",
    "__iter__",
    "__next__",
    "__aiter__",
    "__anext__",
    "__await__",
    "__call__",
    "__fspath__",
    "__len__",
    "__bool__",
    "__contains__",
    "__getitem__",
    "__truediv__",
)

# Members every class has by inheritance from object or Exception; comparing them only
# adds noise.
_COMMON_MEMBERS = set(dir(Exception)) | set(dir(object)) | {"__weakref__", "__dict__"}


class Status(enum.Enum):
    PRESENT = "present"
    RENAMED = "renamed"
    MISSING = "missing"
    DELIBERATE = "deliberate"


@dataclass
class NameReport:
    trio_name: str
    nursery_name: str | None
    status: Status
    problems: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    note: str = ""


def public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = dir(module)
    return sorted(n for n in set(names) | set(dir(module)) if not n.startswith("_"))


def _import(name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _lookup(dotted: str) -> tuple[bool, Any]:
    # A submodule (nursery.testing) counts as present when it can be imported.
    if dotted.partition(".")[0] == "nursery" and dotted.count(".") == 1:
        module = _import(dotted)
        if module is not None:
            return True, module
    module_name, _, attr = dotted.rpartition(".")
    module = _import(module_name)
    if module is None or not hasattr(module, attr):
        return False, None
    return True, getattr(module, attr)


# -- signatures ------------------------------------------------------------------------------


def _signature(obj: Any) -> inspect.Signature | None:
    # Follow functools.wraps to functions (Trio's Path methods wrap pathlib's), not to
    # classes: Trio's socket() "wraps" socket.socket, whose signature is not socket()'s.
    follow = not isinstance(getattr(obj, "__wrapped__", None), type)
    try:
        return inspect.signature(obj, follow_wrapped=follow)
    except (TypeError, ValueError):
        return None


def _is_trio_object(value: object) -> bool:
    module = getattr(type(value), "__module__", "") or ""
    return module == "trio" or module.startswith("trio.")


def _is_sentinel(value: object) -> bool:
    """A private marker meaning "not given": a bare ``object()``, or a private class or
    an instance of one (Trio's ``_NoValue``)."""
    if type(value) is object:
        return True
    if isinstance(value, type):
        return value.__name__.startswith("_")
    return type(value).__name__.startswith("_") and not _is_trio_public(value)


def _is_trio_public(value: object) -> bool:
    return _public_name_of(value) is not None


def _public_name_of(value: object) -> str | None:
    """The public Trio name bound to this very object, if any."""
    for trio_module in MODULES:
        module = _import(trio_module)
        if module is None:
            continue
        for name in public_names(module):
            if getattr(module, name, None) is value:
                return f"{trio_module}.{name}"
    return None


def _nursery_counterpart(trio_name: str) -> tuple[bool, Any]:
    module, _, name = trio_name.rpartition(".")
    return _lookup(RENAMED.get(trio_name, f"{MODULES[module]}.{name}"))


def _same_default(trio_default: object, nursery_default: object) -> bool:
    if trio_default is nursery_default:
        return True
    # A public Trio object (TASK_STATUS_IGNORED, say) must be nursery's counterpart.
    trio_name = _public_name_of(trio_default)
    if trio_name is not None:
        found, counterpart = _nursery_counterpart(trio_name)
        return found and counterpart is nursery_default
    if _is_sentinel(trio_default):
        return _is_sentinel(nursery_default)
    try:
        return bool(trio_default == nursery_default) and type(trio_default) is type(nursery_default)
    except Exception:
        return False


def _show(value: object) -> str:
    """A default as text; private markers as ``<sentinel>`` (their reprs hold addresses)."""
    return "<sentinel>" if _is_sentinel(value) else repr(value)


def _describe(param: inspect.Parameter) -> str:
    text = param.name
    if param.kind is param.VAR_POSITIONAL:
        text = "*" + text
    elif param.kind is param.VAR_KEYWORD:
        text = "**" + text
    if param.default is not param.empty:
        text += f"={_show(param.default)}"
    return text


def compare_signatures(trio_obj: Any, nursery_obj: Any, trio_name: str) -> list[str]:
    """Differences in parameter names, kinds and defaults, one line each."""
    trio_sig = _signature(trio_obj)
    nursery_sig = _signature(nursery_obj)
    if trio_sig is None or nursery_sig is None:
        return []
    problems: list[str] = []
    nursery_params = dict(nursery_sig.parameters)
    trio_params = list(trio_sig.parameters.values())
    for index, param in enumerate(trio_params):
        name = RENAMED_PARAMETERS.get((trio_name, param.name), param.name)
        ours = nursery_params.pop(name, None)
        if ours is None:
            # A positional-only parameter may have any name; match it by position.
            if param.kind is param.POSITIONAL_ONLY:
                positional = list(nursery_sig.parameters.values())
                if index < len(positional) and positional[index].kind in (
                    param.POSITIONAL_ONLY,
                    param.POSITIONAL_OR_KEYWORD,
                ):
                    nursery_params.pop(positional[index].name, None)
                    continue
            problems.append(f"parameter missing: {_describe(param)}")
            continue
        if ours.kind is not param.kind:
            # Accepting more ways to pass an argument than Trio does is harmless.
            wider = (
                param.kind in (param.POSITIONAL_ONLY, param.KEYWORD_ONLY)
                and ours.kind is param.POSITIONAL_OR_KEYWORD
            )
            if not wider:
                problems.append(
                    f"parameter {name}: kind {ours.kind.description}, "
                    f"Trio's is {param.kind.description}"
                )
        if param.default is param.empty and ours.default is not param.empty:
            continue  # optional where Trio requires it: compatible
        if param.default is not param.empty and ours.default is param.empty:
            problems.append(
                f"parameter {name}: required, Trio's defaults to {_show(param.default)}"
            )
        elif param.default is not param.empty and not _same_default(param.default, ours.default):
            problems.append(
                f"parameter {name}: default {_show(ours.default)}, Trio's is {_show(param.default)}"
            )
    for extra in nursery_params.values():
        if extra.kind in (extra.VAR_POSITIONAL, extra.VAR_KEYWORD):
            continue
        if extra.default is extra.empty and extra.kind is not extra.POSITIONAL_ONLY:
            problems.append(f"extra required parameter: {_describe(extra)}")
    return problems


# -- classes ---------------------------------------------------------------------------------


def _members(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    names |= {n for n in PROTOCOL_DUNDERS if hasattr(cls, n) and n not in _COMMON_MEMBERS}
    # Instance attributes do not all show in dir(cls): annotated ones (attrs classes)
    # and those assigned in __init__ are members too.
    for klass in cls.__mro__:
        if klass is object:
            continue
        names |= {n for n in vars(klass).get("__annotations__", {}) if not n.startswith("_")}
        names |= _assigned_in_init(klass)
    return names


def _assigned_in_init(klass: type) -> set[str]:
    """Public ``self.name = ...`` targets in ``klass.__init__``'s source."""
    init = vars(klass).get("__init__")
    if not inspect.isfunction(init):
        return set()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ):
                names.add(target.attr)
    return names


def _trio_to_nursery_class(trio_cls: type) -> Any:
    """The nursery counterpart of a public Trio class, found by its public name."""
    trio_name = _public_name_of(trio_cls)
    if trio_name is None:
        return None
    found, obj = _nursery_counterpart(trio_name)
    return obj if found else None


def compare_classes(trio_cls: type, nursery_cls: type, trio_name: str) -> list[str]:
    problems: list[str] = []
    trio_members = _members(trio_cls)
    nursery_members = _members(nursery_cls)
    for name in sorted(trio_members - nursery_members):
        # Instance attributes that only exist once an object is made (set in __init__
        # without a slot or annotation) cannot be seen on the class: look in the source.
        problems.append(f"member missing: {name}")
    for name in sorted(trio_members & nursery_members):
        trio_fn = _method(trio_cls, name)
        nursery_fn = _method(nursery_cls, name)
        if trio_fn is None or nursery_fn is None:
            if callable(trio_fn) != callable(nursery_fn):
                problems.append(f"member {name}: method on one side only")
            continue
        if _async_mismatch(trio_fn, nursery_fn):
            problems.append(f"member {name}: async def in Trio, not in nursery")
        for problem in compare_signatures(trio_fn, nursery_fn, f"{trio_name}.{name}"):
            problems.append(f"{name}(): {problem}")
    # Public Trio bases (say, trio.abc.HalfCloseableStream) must have counterparts among
    # nursery's bases.
    for base in trio_cls.__mro__[1:]:
        module = getattr(base, "__module__", "")
        if not (module == "trio" or module.startswith("trio.")):
            continue
        counterpart = _trio_to_nursery_class(base)
        if counterpart is None:
            continue
        if isinstance(counterpart, type) and not issubclass(nursery_cls, counterpart):
            problems.append(f"not a subclass of {counterpart.__module__}.{counterpart.__name__}")
    # A Trio subclass of an ABC must be instantiable here too: same abstract methods.
    trio_abstract = set(getattr(trio_cls, "__abstractmethods__", ()))
    nursery_abstract = set(getattr(nursery_cls, "__abstractmethods__", ()))
    for name in sorted(nursery_abstract - trio_abstract):
        problems.append(f"abstract here, not in Trio: {name}")
    for name in sorted(trio_abstract - nursery_abstract):
        problems.append(f"abstract in Trio, not here: {name}")
    # The stdlib bases matter as much (an exception class that is not an OSError, say).
    for base in trio_cls.__mro__[1:]:
        builtin = base.__module__ == "builtins" and base is not object
        if builtin and not issubclass(nursery_cls, base):
            problems.append(f"not a subclass of {base.__name__}")
    return problems


def _method(cls: type, name: str) -> Any:
    """The method ``name`` as seen through the class (a classmethod bound, so that both
    sides drop ``cls``), or None for properties, slots and plain attributes."""
    static = inspect.getattr_static(cls, name, None)
    if isinstance(static, (staticmethod, classmethod)):
        return getattr(cls, name)
    if inspect.isfunction(static) or inspect.ismethoddescriptor(static):
        if inspect.ismemberdescriptor(static) or inspect.isgetsetdescriptor(static):
            return None
        return static
    return None


# -- the walk --------------------------------------------------------------------------------


def compare_name(trio_module: str, name: str) -> NameReport:
    trio_name = f"{trio_module}.{name}"
    trio_obj = getattr(importlib.import_module(trio_module), name)
    nursery_name = RENAMED.get(trio_name, f"{MODULES[trio_module]}.{name}")
    found, nursery_obj = _lookup(nursery_name)
    if not found:
        if trio_name in DELIBERATE:
            return NameReport(trio_name, None, Status.DELIBERATE, note=DELIBERATE[trio_name])
        return NameReport(trio_name, None, Status.MISSING)
    status = Status.RENAMED if trio_name in RENAMED else Status.PRESENT
    report = NameReport(trio_name, nursery_name, status)
    if trio_name in DELIBERATE:
        report.problems.append("listed as a deliberate absence, but present")
    if isinstance(trio_obj, types.ModuleType):
        return report
    if isinstance(trio_obj, type):
        if not isinstance(nursery_obj, type):
            report.problems.append("a class in Trio, not in nursery")
            return report
        report.problems += compare_classes(trio_obj, nursery_obj, trio_name)
        # A constructor users call: compare it too (runtime-owned classes have none).
        if vars(trio_obj).get("__init__", object.__init__) is not object.__init__ or any(
            "__init__" in vars(k) for k in trio_obj.__mro__[1:-1]
        ):
            report.problems += [
                f"constructor: {p}" for p in compare_signatures(trio_obj, nursery_obj, trio_name)
            ]
    elif callable(trio_obj):
        if _async_mismatch(trio_obj, nursery_obj):
            report.problems.append("async def in Trio, not in nursery")
        report.problems += compare_signatures(trio_obj, nursery_obj, trio_name)
    elif not _constant_matches(trio_obj, nursery_obj):
        report.problems.append(f"value {nursery_obj!r}, Trio's is {trio_obj!r}")
    for problem in list(report.problems):
        reason = ACCEPTED.get(f"{trio_name}: {problem}")
        if reason is not None:
            report.problems.remove(problem)
            report.accepted.append(f"{problem} ({reason})")
    return report


def _async_mismatch(trio_fn: Any, nursery_fn: Any) -> bool:
    """Trio's is an ``async def`` and nursery's is not. (The other way round is fine:
    Trio declares some abstract methods as plain functions returning awaitables.)"""
    if not inspect.iscoroutinefunction(trio_fn) or inspect.iscoroutinefunction(nursery_fn):
        return False
    # ``async for`` only needs __anext__ to return an awaitable, and always awaits it:
    # a generator-based coroutine (``types.coroutine``) serves it the same way.
    code = getattr(nursery_fn, "__code__", None)
    iterable_coroutine = code is not None and code.co_flags & inspect.CO_ITERABLE_COROUTINE
    return not (nursery_fn.__name__ == "__anext__" and iterable_coroutine)


def _constant_matches(trio_value: object, nursery_value: object) -> bool:
    if isinstance(trio_value, (int, str, bytes, float)):
        return bool(trio_value == nursery_value)
    return True


def walk(modules: list[str]) -> Iterator[NameReport]:
    for trio_module in modules:
        module = importlib.import_module(trio_module)
        for name in public_names(module):
            if f"{trio_module}.{name}" in IGNORED:
                continue
            if isinstance(getattr(module, name), __future__._Feature):
                continue
            yield compare_name(trio_module, name)


# -- output ----------------------------------------------------------------------------------


def summary_lines(reports: list[NameReport], modules: list[str]) -> list[str]:
    lines = [
        f"{'module':<18} {'names':>5} {'present':>7} {'renamed':>7} {'missing':>7} "
        f"{'deliberate':>10} {'mismatched':>10}"
    ]
    totals = [0] * 6
    for module in modules:
        mine = [r for r in reports if r.trio_name.rpartition(".")[0] == module]
        row = [
            len(mine),
            sum(r.status is Status.PRESENT for r in mine),
            sum(r.status is Status.RENAMED for r in mine),
            sum(r.status is Status.MISSING for r in mine),
            sum(r.status is Status.DELIBERATE for r in mine),
            sum(bool(r.problems) for r in mine),
        ]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        lines.append(f"{module:<18} " + _row(row))
    lines.append(f"{'total':<18} " + _row(totals))
    return lines


def _row(row: list[int]) -> str:
    widths = (5, 7, 7, 7, 10, 10)
    return " ".join(f"{value:>{width}}" for value, width in zip(row, widths, strict=True))


def detail_lines(reports: list[NameReport]) -> list[str]:
    lines: list[str] = []
    missing = [r for r in reports if r.status is Status.MISSING]
    if missing:
        lines.append("")
        lines.append("missing:")
        lines += [f"  {r.trio_name}" for r in missing]
    deliberate = [r for r in reports if r.status is Status.DELIBERATE]
    if deliberate:
        lines.append("")
        lines.append("absent on purpose:")
        lines += [f"  {r.trio_name}: {r.note}" for r in deliberate]
    accepted = [r for r in reports if r.accepted]
    if accepted:
        lines.append("")
        lines.append("differences on purpose:")
        for report in accepted:
            lines += [f"  {report.trio_name}: {item}" for item in report.accepted]
    renamed = [r for r in reports if r.status is Status.RENAMED]
    if renamed:
        lines.append("")
        lines.append("renamed:")
        lines += [f"  {r.trio_name} -> {r.nursery_name}" for r in renamed]
    mismatched = [r for r in reports if r.problems]
    if mismatched:
        lines.append("")
        lines.append("mismatches:")
        for report in mismatched:
            lines.append(f"  {report.trio_name}:")
            lines += [f"    {problem}" for problem in report.problems]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", action="store_true", help="print only the summary table")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 if any name is missing or mismatched",
    )
    parser.add_argument("modules", nargs="*", help="Trio modules to compare (default: all)")
    args = parser.parse_args(argv)
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    # Compare the nursery of this checkout, wherever the command is run from.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    for module in modules:
        importlib.import_module(module)
    import trio

    reports = list(walk(modules))
    print(
        f"Trio {trio.__version__} against nursery ({importlib.import_module('nursery').__file__})"
    )
    print()
    for line in summary_lines(reports, modules):
        print(line)
    if not args.summary:
        for line in detail_lines(reports):
            print(line)
    if args.check:
        return int(any(r.status is Status.MISSING or r.problems for r in reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
