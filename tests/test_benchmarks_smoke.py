"""Smoke test for the benchmark harness in ``benchmarks/``.

Runs every workload once at tiny sizes, through the real harness (a worker subprocess
per measurement), and checks that each produced a result. It measures nothing: the
point is that ``python -m benchmarks`` keeps working as the kernel changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.registry import WORKLOADS, Metric

REPO_ROOT = Path(__file__).resolve().parent.parent


def _have_c_compiler() -> bool:
    from benchmarks.echo.build import CompilerMissingError, compiler

    try:
        compiler()
    except CompilerMissingError:
        return False
    return True


@pytest.mark.parametrize("impl", ["nursery", "asyncio", "trio", "uvloop"])
def test_every_workload_runs(impl: str, tmp_path: Path) -> None:
    reason = run.unavailable_reason(impl)
    if reason is not None:
        pytest.skip(reason)
    results = tmp_path / "results.json"
    workloads = [w for w in WORKLOADS if impl in w.impls]
    if not _have_c_compiler():
        # The tcp-echo workloads compile their C load client: without a compiler, skip them.
        workloads = [w for w in workloads if w.module != "tcp_echo"]
    only = ",".join(w.name for w in workloads)

    status = run.main(["--smoke", "--impl", impl, "--only", only, "--json", str(results)])

    assert status == 0
    measurements = json.loads(results.read_text())["measurements"]
    expected = {w.name for w in workloads}
    assert {m["workload"] for m in measurements} == expected
    for measurement in measurements:
        assert measurement["ok"], measurement["error"]
        assert measurement["impl"] == impl
        # RSS growth, and CPU times read in clock ticks, may round to 0 at smoke sizes.
        may_be_zero = ("rss", "user", "system")
        assert all(
            value > 0 or any(word in key for word in may_be_zero)
            for key, value in measurement["best"].items()
        )


def test_runs_as_a_script() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--smoke",
            "--only",
            "checkpoint,spawn-batched",
            "--impl",
            "asyncio",
            "--markdown",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "| checkpoint | µs/op |" in completed.stdout
    assert "| spawn-batched | µs/op |" in completed.stdout


def test_spawn_floor_runs() -> None:
    if not _have_c_compiler() or run.unavailable_reason("trio") is not None:
        pytest.skip("needs a C compiler and Trio")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.spawn_floor", "--size", "3", "--repeat", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for label in ("C floor", "Popen", "nursery run_process", "trio run_process", "0.5x Trio"):
        assert label in completed.stdout


def test_failed_self_check_is_reported() -> None:
    # A workload that ends up doing nothing must fail loudly, not report a fast time.
    from benchmarks._common import BenchmarkCheckError, expect

    with pytest.raises(BenchmarkCheckError, match="tasks finished"):
        expect(0, 10, "tasks finished")


def _row(kind: str, medians: dict[str, float]) -> run.Row:
    metric = Metric("x", "", "unit", kind)
    return run.Row("w", "unit", metric, medians, medians, {}, ("nursery", "trio", "asyncio"))


def test_targets() -> None:
    assert _row("time", {"nursery": 1, "trio": 2, "asyncio": 1}).target() == "pass"
    assert _row("time", {"nursery": 1.1, "trio": 2, "asyncio": 1}).target() == "FAIL"
    assert _row("time", {"nursery": 1, "trio": 1.9, "asyncio": 5}).target() == "FAIL"
    assert _row("time", {"nursery": 1, "trio": 3}).target() == "n/a"
    assert _row("time", {"trio": 3, "asyncio": 1}).target() == "n/a"
    assert _row("memory", {"nursery": 100, "trio": 100, "asyncio": 1}).target() == "pass"
    assert _row("memory", {"nursery": 101, "trio": 100}).target() == "FAIL"


def test_a_workload_may_set_its_own_time_targets() -> None:
    # channel-stream-100: nursery/trio <= 0.25, and no asyncio target at all.
    def row(medians: dict[str, float]) -> run.Row:
        metric = Metric("x", "", "unit", "time")
        impls = ("nursery", "trio", "asyncio")
        return run.Row("w", "unit", metric, medians, medians, {}, impls, {"trio": 0.25})

    assert row({"nursery": 1, "trio": 4, "asyncio": 0.1}).target() == "pass"
    assert row({"nursery": 1.1, "trio": 4, "asyncio": 10}).target() == "FAIL"
    stream = next(w for w in WORKLOADS if w.name == "channel-stream-100")
    assert stream.time_targets == {"trio": 0.25}


def test_rate_targets_are_floors() -> None:
    # tcp-echo: req/s must reach 1.5x Trio's and asyncio's; "—" when a row has none.
    def row(medians: dict[str, float], floors: dict[str, float]) -> run.Row:
        metric = Metric("x", "", "req/s", "rate")
        impls = ("nursery", "trio", "asyncio")
        return run.Row("w", "req/s", metric, medians, medians, {}, impls, None, floors)

    floors = {"trio": 1.5, "asyncio": 1.0}
    assert row({"nursery": 30, "trio": 20, "asyncio": 30}, floors).target() == "pass"
    assert row({"nursery": 29, "trio": 20, "asyncio": 10}, floors).target() == "FAIL"
    assert row({"nursery": 30, "trio": 10, "asyncio": 31}, floors).target() == "FAIL"
    assert row({"nursery": 30, "trio": 10}, floors).target() == "n/a"
    assert row({"trio": 10, "asyncio": 31}, {}).target() == "—"
    echo = next(w for w in WORKLOADS if w.name == "tcp-echo-64")
    assert echo.rate_targets == floors
    assert echo.time_targets == {"trio": 0.67, "asyncio": 1.0}


def test_best_of_takes_the_highest_rate() -> None:
    from benchmarks.worker import best_of

    samples = [{"requests_per_s": 10.0, "us": 2.0}, {"requests_per_s": 12.0, "us": 3.0}]
    assert best_of(samples, frozenset({"requests_per_s"})) == {"requests_per_s": 12.0, "us": 2.0}


@pytest.mark.skipif(not _have_c_compiler(), reason="no C compiler for the echo client")
def test_echo_client_rejects_bad_arguments() -> None:
    from benchmarks.echo.build import build_client

    client = str(build_client())
    usage = subprocess.run([client], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2
    assert "usage:" in usage.stderr
    bad = subprocess.run(
        [client, "127.0.0.1", "1", "0", "64", "1", "0"], capture_output=True, text=True, timeout=30
    )
    assert bad.returncode == 2
    assert "CONNECTIONS" in bad.stderr


def test_missing_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.echo import build

    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(build.CompilerMissingError, match="needs a C compiler"):
        build.build_client()
