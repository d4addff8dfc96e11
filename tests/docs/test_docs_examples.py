"""Every Python example in the docs and in ``examples/`` runs, and prints what it says.

A page's ``python`` blocks run in order as one script (later blocks build on earlier
ones), in a fresh folder. Expected output is written as

- a comment at the end of a line that prints (or ``# prints: ...`` after a call that
  prints through a callback);
- a run of comment lines right after a line that prints and has no comment of its own
  (no blank line between);
- a ``text`` block right after the ``python`` block.

Printed and expected text are compared word by word, so a long line may be wrapped in the
comments; ``…`` stands for one word that differs from run to run (a hash). A script
that documents no output must still run. A block right after
``<!-- no-run: reason -->`` is skipped; a block right after
``<!-- write-file: NAME -->`` is written to NAME first (a policy or workflow file the
examples read); ``docs/_examples/<page>.py``, if present, runs first, unseen (the data
a page's examples work on).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted([*DOCS.glob("*.md"), *DOCS.glob("guides/*.md"), *ROOT.glob("examples/*.py")])
_BLOCK = re.compile(r"(<!-- no-run:[^>]*-->\s*)?```python\n(.*?)```(?:\s*```text\n(.*?)```)?", re.S)
_FILE = re.compile(r"<!-- write-file: (\S+) -->\s*```[a-z]*\n(.*?)```", re.S)
PRELUDES = DOCS / "_examples"


def _blocks(page: Path) -> list[tuple[str, str]]:
    """``(code, output shown in a text block right after it)`` of every block to run."""
    if page.suffix == ".py":  # an example script is one block
        return [(page.read_text(encoding="utf-8"), "")]
    found = _BLOCK.findall(page.read_text(encoding="utf-8"))
    return [(code, shown) for skip, code, shown in found if not skip]


def _output_words(code: str) -> list[str]:
    words: list[str] = []
    run = False  # inside a run of output comments
    after_print = False  # the last line of code printed and said nothing inline
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if after_print or run:
                words.extend(stripped[1:].split())
                run = True
            after_print = False
            continue
        run = False
        inline = "print(" in line and "  # " in line
        if inline:
            words.extend(line.split("  # ", 1)[1].split())
        elif "  # prints: " in line:  # a call that prints through a callback
            words.extend(line.split("  # prints: ", 1)[1].split())
        after_print = "print(" in line and not inline
    return words


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.stem)
def test_page_examples_print_what_the_page_says(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = _blocks(page)
    namespace: dict[str, object] = {"__name__": "__main__", "__file__": str(page)}
    if page.suffix == ".md":
        for name, body in _FILE.findall(page.read_text(encoding="utf-8")):
            (tmp_path / name).write_text(body, encoding="utf-8")
    prelude = PRELUDES / f"{page.stem}.py"
    if prelude.exists():  # the page's unseen setup (its data), run quietly
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(prelude.read_text(encoding="utf-8"), str(prelude), "exec"), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for code, _ in blocks:
            exec(compile(code, str(page), "exec"), namespace)
    expected = [w for code, shown in blocks for w in (*_output_words(code), *shown.split())]
    words = printed.getvalue().split()
    # "…" stands for one word that differs from run to run (a hash, a random id)
    words = [w if e != "…" else "…" for w, e in zip(words, expected, strict=False)] + words[
        len(expected) :
    ]
    assert not expected or words == expected, (
        f"{page.name}: the examples print\n{printed.getvalue()}\nbut the page says\n"
        + " ".join(expected)
    )
    assert os.getcwd() == str(tmp_path)
