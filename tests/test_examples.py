"""Every script in examples/ runs to completion (exit code 0) in a fresh interpreter.

The docs show these scripts, and each one checks its own claims with ``assert``, so a
passing run means the documented behaviour still holds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 60  # seconds per script
DEMO = EXAMPLES / "demo.py"


def _scripts() -> list[object]:
    params: list[object] = [
        pytest.param(path, id=path.name) for path in sorted(EXAMPLES.glob("*.py"))
    ]
    if not DEMO.exists():
        params.append(
            pytest.param(
                DEMO,
                id=DEMO.name,
                marks=pytest.mark.skip(reason="examples/demo.py does not exist yet"),
            )
        )
    return params


def test_examples_exist() -> None:
    assert len(list(EXAMPLES.glob("*.py"))) > 1


@pytest.mark.parametrize("script", _scripts())
def test_example_runs(script: Path) -> None:
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=EXAMPLES.parent,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        output = [
            o.decode() if isinstance(o, bytes) else (o or "") for o in (exc.stdout, exc.stderr)
        ]
        pytest.fail(f"{script.name} did not finish within {TIMEOUT}s\n" + "\n".join(output))
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


DOCS = EXAMPLES.parent / "docs"


def _python_blocks(markdown: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a Markdown text."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        fence = line.strip()
        if current is None:
            if fence == "```python":
                current = []
        elif fence == "```":
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    return blocks


def _significant(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_doc_snippets_come_from_examples(page: Path) -> None:
    """Every Python block in the docs is an excerpt of an example script (its non-blank
    lines, in order and consecutive), so every snippet a reader sees is code that the
    test above runs."""
    sources = [_significant(path.read_text()) for path in EXAMPLES.glob("*.py")]
    for block in _python_blocks(page.read_text()):
        lines = _significant(block)
        assert any(_contains_run(source, lines) for source in sources), (
            f"this block of {page.name} is not an excerpt of any examples/*.py script:\n{block}"
        )
