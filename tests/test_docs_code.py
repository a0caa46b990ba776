"""Every Python code block of the README and of the documentation runs as written.

The ```` ```python ```` blocks of ``README.md`` and of every ``docs/**/*.md`` page are
extracted and run in order, one fresh interpreter per page, in a temporary folder (which
holds a link to the repository's ``examples/``, since the README's commands run from the
repository root). Each block runs as a script (``__name__ == "__main__"``, its own file, so
Dask's worker processes see it as a script would be seen): the README's blocks each in a
fresh namespace (each must run on its own, as a reader copies it), a documentation page's
blocks in one namespace (a tutorial continues from block to block). Blocks tagged
``text``, ``bash``, ``console`` or anything but ``python`` are not run, nor a block right
after the line ``<!-- docs-test: skip (the reason) -->``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_MARK = "<!-- docs-test: skip"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
RUN_LANGUAGES = ("python", "py")
TIMEOUT_S = 600  # per page; once the kernels are in the disk cache a page takes seconds


@dataclass(frozen=True)
class Block:
    """One fenced code block: its first code line (1-based) and its dedented code."""

    line: int
    code: str


def _dedent(line: str, indent: int) -> str:
    """``line`` without the indentation of its fence (a block inside a list item)."""
    return line[indent:] if line[:indent].strip() == "" else line


def code_blocks(text: str) -> list[Block]:
    """The Python blocks of a Markdown page to run (see the module docstring)."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        language = (opening["info"].split() or [""])[0]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if language in RUN_LANGUAGES and not previous.startswith(SKIP_MARK):
            body = [_dedent(line, indent) for line in lines[i + 1 : end]]
            blocks.append(Block(i + 2, "\n".join(body) + "\n"))
        i = end + 1
    return blocks


def pages() -> list[Path]:
    """README.md and the documentation's Markdown pages (not the built or generated ones)
    that hold Python blocks to run."""
    docs = [
        path
        for path in sorted((ROOT / "docs").rglob("*.md"))
        if not {"_build", "_generated"} & set(path.relative_to(ROOT / "docs").parts)
    ]
    return [page for page in (ROOT / "README.md", *docs) if code_blocks(page.read_text("utf-8"))]


# Runs in the page's folder: each block as a script file, reporting the first failure.
RUNNER = """
import json, runpy, sys, traceback
blocks, shared = json.load(open(sys.argv[1])), sys.argv[2] == "shared"
namespace = {}
for block in blocks:
    path = f"block_line_{block['line']}.py"
    with open(path, "w") as handle:
        handle.write(block["code"])
    try:
        result = runpy.run_path(path, init_globals=namespace if shared else None,
                                run_name="__main__")
    except BaseException:
        print(f"DOCS-BLOCK-FAILED line {block['line']}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    if shared:
        namespace = {k: v for k, v in result.items() if not k.startswith("__")}
"""


def run_page(page: Path, folder: Path) -> subprocess.CompletedProcess:
    """Run the page's blocks in ``folder`` in a fresh interpreter."""
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    (folder / "blocks.json").write_text(json.dumps([b.__dict__ for b in blocks]))
    (folder / "runner.py").write_text(RUNNER)
    (folder / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    mode = "separate" if page.name == "README.md" else "shared"
    return subprocess.run(
        [sys.executable, "runner.py", "blocks.json", mode],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_code_runs_as_written(page, tmp_path):
    result = run_page(page, tmp_path)
    if result.returncode != 0:
        failed = re.search(r"DOCS-BLOCK-FAILED line (\d+)", result.stderr)
        where = f"line {failed[1]}" if failed else "before any block"
        pytest.fail(
            f"{page.relative_to(ROOT)}, block at {where}:\n{result.stderr[-6000:]}",
            pytrace=False,
        )


def test_blocks_are_found_as_a_reader_sees_them():
    """Indented blocks in list items are dedented, other languages and marked blocks are
    left out, and line numbers point at the first code line."""
    text = (
        "intro\n"
        "```python\nx = 1\n```\n"
        "* item\n\n"
        "  ```python\n  if x:\n      y = 2\n  ```\n"
        "```bash\nls\n```\n"
        "<!-- docs-test: skip (needs a cluster) -->\n"
        "```python\nimport missing\n```\n"
        "````text\n```python\nnot = run\n```\n````\n"
    )
    blocks = code_blocks(text)
    assert [b.line for b in blocks] == [3, 8]
    assert blocks[0].code == "x = 1\n"
    assert blocks[1].code == "if x:\n    y = 2\n"


def test_the_readme_and_the_tutorials_are_among_the_pages():
    names = {str(page.relative_to(ROOT)) for page in pages()}
    assert {"README.md", "docs/tutorials/cascade.md", "docs/getting-started/index.md"} <= names


def test_readme_blocks_do_not_share_names(tmp_path):
    """Each README block must run on its own, as a reader copies it."""
    page = tmp_path / "README.md"
    page.write_text("```python\nx = 1\n```\n\n```python\nprint(x)\n```\n")
    folder = tmp_path / "run"
    folder.mkdir()
    result = run_page(page, folder)
    assert result.returncode == 1
    assert "DOCS-BLOCK-FAILED line 6" in result.stderr


def test_a_failing_block_is_reported_with_its_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\n```\n\n```python\nprint(y)\n```\n")
    folder = tmp_path / "run"
    folder.mkdir()
    result = run_page(page, folder)
    assert result.returncode == 1
    assert "DOCS-BLOCK-FAILED line 8" in result.stderr
    assert "NameError: name 'y' is not defined" in result.stderr
