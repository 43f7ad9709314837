"""Run the benchmark workloads on nursery, Trio, asyncio and uvloop and compare them.

Every measurement runs in a fresh ``python -m benchmarks.worker`` process, so no
implementation inherits another's imports, heap or GC state. For each workload the
implementations are measured round-robin, ``--repeat`` times, with the starting
implementation rotated each time, so slow drifts in machine load hit all of them
alike. The table shows, per implementation, the median (and the min) over those
processes, and nursery's ratios to Trio and asyncio, medians over medians.

Progress goes to stderr and the table to stdout, so ``--markdown > table.md`` works.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Started as ``python benchmarks/run.py``: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import (
    IMPLEMENTATIONS,
    MEMORY_TARGET_VS_TRIO,
    TIME_TARGET_VS_ASYNCIO,
    TIME_TARGET_VS_TRIO,
    WORKLOADS,
    WORKLOADS_BY_NAME,
    Metric,
    Workload,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPEAT = {"full": 5, "quick": 3, "smoke": 1}

# What a Trio-style implementation must provide for the workloads to run on it.
_TRIO_API = ("run", "sleep", "open_nursery", "CancelScope", "move_on_after")


# ---------------------------------------------------------------------------------
# Which implementations can run here


def unavailable_reason(impl: str) -> str | None:
    """Why ``impl`` cannot be measured on this machine, or None if it can.

    Imported in the parent only to find out; the measurements themselves happen in
    fresh worker processes, so this import biases nothing.
    """
    # uvloop is measured as asyncio on uvloop's loop: importing uvloop is what matters.
    module_name = impl
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return f"cannot import {module_name}: {type(exc).__name__}: {exc}"
    if impl in ("nursery", "trio"):
        missing = [name for name in _TRIO_API if not hasattr(module, name)]
        try:
            lowlevel = importlib.import_module(f"{module_name}.lowlevel")
            if not hasattr(lowlevel, "checkpoint"):
                missing.append("lowlevel.checkpoint")
        except Exception:
            missing.append("lowlevel")
        if missing:
            return f"{module_name} lacks {', '.join(missing)}"
    return None


# ---------------------------------------------------------------------------------
# Running workers


@dataclasses.dataclass
class Measurement:
    workload: str
    impl: str
    repeat: int
    ok: bool
    best: dict[str, float]
    rounds: list[dict[str, float]]
    error: str = ""
    seconds: float = 0.0  # wall time of the whole worker process


def run_worker(
    workload: Workload, impl: str, size: int, rounds: int, repeat: int, timeout: float
) -> Measurement:
    command = [
        sys.executable,
        "-m",
        "benchmarks.worker",
        workload.name,
        impl,
        f"--size={size}",
        f"--rounds={rounds}",
    ]
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,  # so ``-m benchmarks.worker`` and ``import nursery`` resolve here
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Measurement(
            workload.name, impl, repeat, False, {}, [], f"timed out after {timeout:g} s"
        )
    seconds = time.perf_counter() - started
    result = _last_json_line(completed.stdout)
    if completed.returncode != 0 or result is None or not result.get("ok"):
        error = (result or {}).get("error") or f"worker exited with {completed.returncode}"
        stderr_tail = completed.stderr.strip().splitlines()[-5:]
        if stderr_tail:
            error += "\n    " + "\n    ".join(stderr_tail)
        return Measurement(workload.name, impl, repeat, False, {}, [], error, seconds)
    return Measurement(
        workload.name, impl, repeat, True, result["best"], result["rounds"], "", seconds
    )


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def rotated(items: list[str], by: int) -> list[str]:
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def measure_all(
    workloads: list[Workload], impls: list[str], mode: str, repeat: int, timeout: float
) -> list[Measurement]:
    measurements: list[Measurement] = []
    for workload in workloads:
        # A workload that --quick skips but that was asked for by name runs full size.
        size = workload.size(mode) or workload.full_size
        workload_impls = [impl for impl in impls if impl in workload.impls]
        rounds = workload.rounds_for(mode)
        repeats = workload.repeats_for(mode, repeat)
        for index in range(repeats):
            for impl in rotated(workload_impls, index):
                measurement = run_worker(workload, impl, size, rounds, index, timeout)
                measurements.append(measurement)
                _report_progress(workload, measurement, repeats)
    return measurements


def _report_progress(workload: Workload, measurement: Measurement, repeats: int) -> None:
    where = f"{workload.name:<20} {measurement.repeat + 1}/{repeats} {measurement.impl:<8}"
    if measurement.ok:
        figures = "  ".join(
            f"{format_value(measurement.best[metric.key])} {metric.unit}"
            for metric in workload.metrics
        )
        print(f"  {where} {figures}  ({measurement.seconds:.1f} s)", file=sys.stderr)
    else:
        print(f"  {where} FAILED: {measurement.error}", file=sys.stderr)
    sys.stderr.flush()


# ---------------------------------------------------------------------------------
# Summarising


@dataclasses.dataclass
class Row:
    label: str
    unit: str
    metric: Metric
    medians: dict[str, float]
    minimums: dict[str, float]
    counts: dict[str, int]
    workload_impls: tuple[str, ...]  # the implementations the workload has versions for
    time_targets: dict[str, float] | None = None  # the workload's own, if not the defaults
    rate_targets: dict[str, float] | None = None  # floors for a "rate" metric

    def ratio(self, other: str) -> float | None:
        if "nursery" in self.medians and other in self.medians and self.medians[other] > 0:
            return self.medians["nursery"] / self.medians[other]
        return None

    def target(self) -> str:
        """Return "pass" or "FAIL" against the targets in registry.py.

        "FAIL" as soon as one measured ratio misses its target; "n/a" when none does
        but a ratio the target needs was not measured (e.g. nursery not installed).
        """
        if self.metric.kind == "rate":
            return self._rate_target()
        if self.metric.kind == "info":
            return "—"
        limits = {"trio": MEMORY_TARGET_VS_TRIO}
        if self.metric.kind == "time" and self.time_targets is not None:
            limits = dict(self.time_targets)
        elif self.metric.kind == "time":
            limits = {"trio": TIME_TARGET_VS_TRIO}
            if "asyncio" in self.workload_impls:
                limits["asyncio"] = TIME_TARGET_VS_ASYNCIO
        ratios = {other: self.ratio(other) for other in limits}
        if any(ratio is not None and ratio > limits[other] for other, ratio in ratios.items()):
            return "FAIL"
        if any(ratio is None for ratio in ratios.values()):
            return "n/a"
        return "pass" if limits else "—"

    def _rate_target(self) -> str:
        """Like target(), for a rate (higher is better): nursery/other must reach a floor."""
        floors = self.rate_targets or {}
        ratios = {other: self.ratio(other) for other in floors}
        if any(ratio is not None and ratio < floors[other] for other, ratio in ratios.items()):
            return "FAIL"
        if any(ratio is None for ratio in ratios.values()):
            return "n/a"
        return "pass" if floors else "—"


def summarise(workloads: list[Workload], measurements: list[Measurement]) -> list[Row]:
    rows: list[Row] = []
    for workload in workloads:
        for metric in workload.metrics:
            label = workload.name + (f" ({metric.label})" if len(workload.metrics) > 1 else "")
            best = max if metric.kind == "rate" else min
            values: dict[str, list[float]] = {}
            for measurement in measurements:
                if measurement.workload == workload.name and measurement.ok:
                    values.setdefault(measurement.impl, []).append(measurement.best[metric.key])
            rows.append(
                Row(
                    label=label,
                    unit=metric.unit,
                    metric=metric,
                    medians={impl: statistics.median(v) for impl, v in values.items()},
                    # For a rate (higher is better) the best worker is the highest.
                    minimums={impl: best(v) for impl, v in values.items()},
                    counts={impl: len(v) for impl, v in values.items()},
                    workload_impls=workload.impls,
                    time_targets=workload.time_targets,
                    rate_targets=workload.rate_targets,
                )
            )
    return rows


def format_value(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}"


def table_cells(rows: list[Row], impls: list[str]) -> tuple[list[str], list[list[str]]]:
    header = ["workload", "unit", *impls, "nursery/trio", "nursery/asyncio", "target"]
    body: list[list[str]] = []
    for row in rows:
        cells = [row.label, row.unit]
        for impl in impls:
            if impl in row.medians:
                cells.append(
                    f"{format_value(row.medians[impl])} ({format_value(row.minimums[impl])})"
                )
            else:
                cells.append("—")
        cells += [format_ratio(row.ratio("trio")), format_ratio(row.ratio("asyncio")), row.target()]
        body.append(cells)
    return header, body


def render_text(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        # Left-align the names, right-align the numbers.
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(cells) for cells in body)])


def render_markdown(header: list[str], body: list[list[str]]) -> str:
    align = ["---", "---", *(["---:"] * (len(header) - 3)), ":---:"]
    lines = [header, align, *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


# ---------------------------------------------------------------------------------
# Context printed with the table


def environment() -> dict[str, str]:
    info = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpus": str(os.cpu_count()),
        "cpu model": _cpu_model(),
        "os": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nursery commit": _git_commit(),
    }
    for package in ("trio", "uvloop"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    """The commit measured, flagged when ``nursery/`` has uncommitted changes.

    Only ``nursery/`` counts: edits elsewhere in the tree don't change what ran.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "nursery")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} + uncommitted changes in nursery/" if dirty else commit


def echo_footnote(echo: list[Workload], impls: list[str]) -> str:
    """What the tcp-echo rows compare, and which nursery API its server used."""
    lines = [
        "tcp-echo rows: req/s and MB/s are rates (higher is better; cells show median "
        "(max)); server CPU is µs per request. Targets: nursery/"
        + " and nursery/".join(
            f"{other} >= {floor:g}" for other, floor in (echo[0].rate_targets or {}).items()
        )
        + " for the rates, nursery/"
        + " and nursery/".join(
            f"{other} <= {limit:g}" for other, limit in (echo[0].time_targets or {}).items()
        )
        + " for server CPU. asyncio means asyncio streams (the -protocols rows: protocols)."
    ]
    if "nursery" in impls:
        from benchmarks.workloads.tcp_echo import nursery_server_api

        lines.append(f"nursery echo server: {nursery_server_api()}.")
    return "\n".join(lines)


def command_line(argv: list[str]) -> str:
    return shlex.join(["python", "-m", "benchmarks", *argv])


# ---------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="workloads:\n" + "\n".join(f"  {w.name:<20} {w.summary}" for w in WORKLOADS),
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(
        "--quick", action="store_true", help="smaller sizes, fewer repeats (about a minute)"
    )
    sizes.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one repeat: checks that everything runs, measures nothing useful",
    )
    parser.add_argument(
        "--only",
        metavar="WORKLOAD[,WORKLOAD...]",
        help="run only these workloads (default: all)",
    )
    parser.add_argument(
        "--impl",
        metavar="IMPL[,IMPL...]",
        help=f"implementations to run, from {','.join(IMPLEMENTATIONS)} "
        "(default: all that are installed)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="worker processes per workload and implementation "
        f"(default: {DEFAULT_REPEAT['full']}, {DEFAULT_REPEAT['quick']} with --quick; "
        "memory workloads cap it at their own limit)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown, with its context"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every measurement to PATH")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up on a worker process after this long (default: 300)",
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in WORKLOADS_BY_NAME]
        if unknown:
            parser.error(
                f"unknown workload(s) {', '.join(unknown)}; choose from "
                + ", ".join(WORKLOADS_BY_NAME)
            )
        args.only = names
    if args.impl:
        impls = [name.strip() for name in args.impl.split(",") if name.strip()]
        unknown = [name for name in impls if name not in IMPLEMENTATIONS]
        if unknown:
            parser.error(
                f"unknown implementation(s) {', '.join(unknown)}; choose from "
                + ", ".join(IMPLEMENTATIONS)
            )
        args.impl = impls
    return args


def select_workloads(only: list[str] | None, mode: str) -> list[Workload]:
    if only:
        return [WORKLOADS_BY_NAME[name] for name in only]
    return [workload for workload in WORKLOADS if workload.size(mode) is not None]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    mode: str = args.mode
    repeat: int = args.repeat or DEFAULT_REPEAT[mode]
    workloads = select_workloads(args.only, mode)

    impls: list[str] = []
    for impl in args.impl or list(IMPLEMENTATIONS):
        reason = unavailable_reason(impl)
        if reason is None:
            impls.append(impl)
        elif args.impl:
            print(f"error: {impl} was asked for but {reason}", file=sys.stderr)
            return 2
        else:
            print(f"note: skipping {impl}: {reason}", file=sys.stderr)
    if not impls:
        print("error: no implementation to measure", file=sys.stderr)
        return 2

    print(
        f"measuring {', '.join(impls)} on {len(workloads)} workload(s), "
        f"{mode} sizes, up to {repeat} repeat(s)",
        file=sys.stderr,
    )
    measurements = measure_all(workloads, impls, mode, repeat, args.timeout)
    rows = summarise(workloads, measurements)
    header, body = table_cells(rows, impls)
    failures = [m for m in measurements if not m.ok]
    info = environment()

    if args.markdown:
        print(f"Command: `{command_line(argv)}`\n")
        for key, value in info.items():
            print(f"- {key}: {value}")
        print()
        print(render_markdown(header, body))
    else:
        print(", ".join(f"{key}: {value}" for key, value in info.items()))
        print(render_text(header, body))
    print(
        "\nCells: median (min) over worker processes; each worker reports its best of "
        "its timed rounds. Ratios are of medians. Target: nursery/trio <= "
        f"{TIME_TARGET_VS_TRIO:g} and nursery/asyncio <= {TIME_TARGET_VS_ASYNCIO:g} for "
        f"times, nursery/trio <= {MEMORY_TARGET_VS_TRIO:g} for memory."
    )
    # The tcp-echo workloads' targets are spelled out in their own footnote below.
    own = [w for w in workloads if w.time_targets is not None and w.module != "tcp_echo"]
    for workload in own:
        targets = " and ".join(
            f"nursery/{other} <= {limit:g}"
            for other, limit in (workload.time_targets or {}).items()
        )
        print(f"Own target of {workload.name}: {targets}.")
    echo = [w for w in workloads if w.module == "tcp_echo"]
    if echo:
        print(echo_footnote(echo, impls))

    if args.json:
        payload = {
            "command": command_line(argv),
            "mode": mode,
            "environment": info,
            "measurements": [dataclasses.asdict(m) for m in measurements],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")

    if failures:
        print(f"\n{len(failures)} measurement(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure.workload} on {failure.impl}: {failure.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
