"""Run Trio's own test suite against nursery.

This file holds no Trio code. At run time it finds the installed ``trio`` package,
copies a chosen set of its test modules into a scratch directory (outside any git
tree), rewrites their imports and the handful of renamed names so that they exercise
``nursery`` instead, drops our own shims beside them (``shim/``), and optionally runs
pytest there.

    python tools/trio_compat/convert.py --out /tmp/trio_compat --run [-- PYTEST ARGS]

See README.md in this directory for how to read the results.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIM_DIR = HERE / "shim"
# Import the nursery of this checkout, whatever is installed.
sys.path.insert(0, str(HERE.parent.parent))

# The test modules worth running: the kernel, cancellation, sync primitives, channels,
# timeouts, threads, testing helpers. Paths are relative to the trio package.
DEFAULT_FILES = [
    "_core/_tests/test_run.py",
    "_core/_tests/test_cancelled.py",
    "_core/_tests/test_instrumentation.py",
    "_core/_tests/test_parking_lot.py",
    "_core/_tests/test_mock_clock.py",
    "_core/_tests/test_local.py",
    "_core/_tests/test_asyncgen.py",
    "_core/_tests/test_ki.py",
    "_core/_tests/test_io.py",
    "_core/_tests/test_thread_cache.py",
    "_tests/test_sync.py",
    "_tests/test_channel.py",
    "_tests/test_timeouts.py",
    "_tests/test_testing.py",
    "_tests/test_threads.py",
    "_tests/test_contextvars.py",
    "_tests/test_highlevel_generic.py",
    "_tests/test_scheduler_determinism.py",
    "_tests/test_util.py",
]

# Names that lost "trio" in nursery (docs/porting.md, "Renamed names").
RENAMED = {
    "TrioInternalError": "InternalError",
    "TrioToken": "RunToken",
    "current_trio_token": "current_token",
    "in_trio_run": "in_run",
    "in_trio_task": "in_task",
    "trio_test": "nursery_test",
}

# Public Trio modules and their nursery counterparts.
PUBLIC_MODULES = {
    "trio": "nursery",
    "trio.lowlevel": "nursery.lowlevel",
    "trio.testing": "nursery.testing",
    "trio.abc": "nursery.abc",
    "trio.to_thread": "nursery.to_thread",
    "trio.from_thread": "nursery.from_thread",
    "trio.socket": "nursery.socket",
}

# Private Trio modules whose public names nursery exports from a public module.
PRIVATE_WITH_PUBLIC_NAMES = {
    "trio._abc": "nursery.abc",
    "trio._channel": "nursery",
    "trio._sync": "nursery",
    "trio._timeouts": "nursery",
    "trio._highlevel_generic": "nursery",
    "trio._highlevel_socket": "nursery",
    "trio._core._mock_clock": "nursery.testing",
}

# Everything else (trio._core, trio._core._run, trio._threads, ...) goes to this shim,
# which has nursery's names under Trio's internal spellings and a stand-in for the rest.
CATCH_ALL = "compat_core"


def absolute_module(package: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def has_name(module: str, name: str) -> bool:
    if name == "*":
        return True
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def format_import(indent: str, module: str, aliases: list[ast.alias]) -> str:
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
    return f"{indent}from {module} import {names}"


def rewrite_import_from(package: str, node: ast.ImportFrom, indent: str) -> list[str]:
    """Lines replacing one ``from X import ...`` statement."""
    module = absolute_module(package, node)
    if module.startswith(("trio._core._tests.", "trio._tests.")):
        # tutil and friends: our shim, or another converted test module.
        return [format_import(indent, module.rsplit(".", 1)[1], node.names)]
    if module == "trio" or module.startswith("trio.") or module == "":
        target = PUBLIC_MODULES.get(module) or PRIVATE_WITH_PUBLIC_NAMES.get(module)
        by_target: dict[str, list[ast.alias]] = {}
        for alias in node.names:
            name = RENAMED.get(alias.name, alias.name)
            new = ast.alias(name=name, asname=alias.asname)
            if alias.asname is None and name != alias.name:
                new.asname = alias.name  # keep the name the test body uses
            public = not name.startswith("_")
            where = target if target and public and has_name(target, name) else CATCH_ALL
            by_target.setdefault(where, []).append(new)
        return [format_import(indent, m, a) for m, a in by_target.items()]
    return []  # not trio: unchanged


def rewrite_import(node: ast.Import, indent: str) -> list[str]:
    """``import trio[.sub]`` becomes ``import nursery[.sub]`` bound to the name ``trio``."""
    out = []
    for alias in node.names:
        if alias.name != "trio" and not alias.name.startswith("trio."):
            out.append(
                f"{indent}import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
            )
            continue
        module = PUBLIC_MODULES.get(alias.name, CATCH_ALL)
        if alias.asname:
            out.append(f"{indent}import {module} as {alias.asname}")
        else:
            out.append(f"{indent}import {module}")
            out.append(f"{indent}import nursery as trio")
    return out if any(a.name.split(".")[0] == "trio" for a in node.names) else []


def rewrite_imports(source: str, package: str) -> str:
    lines = source.splitlines()
    edits: list[tuple[int, int, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        indent = ""
        if isinstance(node, ast.ImportFrom):
            indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)  # type: ignore[union-attr]
            new = rewrite_import_from(package, node, indent)
            if new:
                edits.append((node.lineno - 1, node.end_lineno or node.lineno, new))
        elif isinstance(node, ast.Import):
            indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)  # type: ignore[union-attr]
            new = rewrite_import(node, indent)
            if new:
                edits.append((node.lineno - 1, node.end_lineno or node.lineno, new))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    return "\n".join(lines) + "\n"


def rewrite_names(source: str) -> str:
    """Rename Trio's names token by token.

    The body of a test keeps saying ``trio.X``: its imports become ``import nursery as
    trio`` (as docs/porting.md suggests), because renaming the module to ``nursery``
    would collide with the local variables that Trio's tests call ``nursery``. Inside
    string literals "trio" becomes "nursery" (the sniffio name, logger names).
    """
    lines = source.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.NAME and tok.string in RENAMED:
            edits.append((tok.start, tok.end, RENAMED[tok.string]))
        elif tok.type == tokenize.NAME and tok.string == "trio_token" and depth:
            following = tokens[i + 1]
            if following.type == tokenize.OP and following.string == "=":
                edits.append((tok.start, tok.end, "token"))  # the keyword argument
        elif tok.type == tokenize.STRING:
            # nursery deprecates nothing yet: filters on Trio's warning class keep working
            # on its base class.
            new = tok.string.replace("trio.TrioDeprecationWarning", "FutureWarning")
            new = re.sub(r"\btrio\b", "nursery", new)
            for old, renamed in RENAMED.items():
                new = re.sub(rf"\b{old}\b", renamed, new)
            if new != tok.string:
                edits.append((tok.start, tok.end, new))
    for (srow, scol), (erow, ecol), new in reversed(edits):
        first, last = lines[srow - 1], lines[erow - 1]
        lines[srow - 1 : erow] = [first[:scol] + new + last[ecol:]]
    return "".join(lines)


def convert(trio_dir: Path, rel: str) -> str:
    package = "trio." + ".".join(Path(rel).parent.parts)
    source = (trio_dir / rel).read_text()
    return rewrite_names(rewrite_imports(source, package))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/trio_compat", help="scratch directory")
    parser.add_argument("--run", action="store_true", help="run pytest afterwards")
    parser.add_argument(
        "--per-file",
        action="store_true",
        help="with --run: one pytest process per file (with a time limit), then a table",
    )
    parser.add_argument("--timeout", type=int, default=600, help="seconds per file")
    parser.add_argument(
        "--nursery",
        default=str(HERE.parent.parent),
        help="directory holding the nursery package to test (default: this checkout)",
    )
    parser.add_argument("--files", nargs="*", default=DEFAULT_FILES)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    spec = importlib.util.find_spec("trio")
    if spec is None or spec.origin is None:
        sys.exit("trio is not installed in this interpreter (pip install trio==0.35.0)")
    trio_dir = Path(spec.origin).parent
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for shim in SHIM_DIR.iterdir():
        if shim.suffix in (".py", ".ini"):
            shutil.copy(shim, out / shim.name)
    for rel in args.files:
        (out / Path(rel).name).write_text(convert(trio_dir, rel))
    print(f"converted {len(args.files)} files from {trio_dir} into {out}")
    if not args.run:
        return 0
    env = dict(os.environ)
    # The nursery under test (by default the checkout this script lives in).
    env["PYTHONPATH"] = os.pathsep.join([args.nursery, str(out)])
    names = [Path(rel).name for rel in args.files]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if not args.per_file:
        return subprocess.call(cmd + names + args.pytest_args, cwd=out, env=env)
    rows = []
    for name in names:
        log = out / (name + ".log")
        with log.open("w") as f:
            try:
                subprocess.run(
                    [*cmd, "-rfE", name, *args.pytest_args],
                    cwd=out,
                    env=env,
                    stdout=f,
                    stderr=subprocess.STDOUT,
                    timeout=args.timeout,
                )
                finals = [
                    line
                    for line in log.read_text().splitlines()
                    if re.search(r"\d+ (passed|failed|error).* in [\d.]+s", line)
                ]
                summary = finals[-1].strip("= ") if finals else "no summary: see the log"
            except subprocess.TimeoutExpired:
                summary = "TIMED OUT"
        counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|error)", summary))
        rows.append((name, counts, summary))
        print(f"{name:34} {summary}", flush=True)
    print(f"logs: {out}/*.log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
