"""The documentation pages' examples are doctests: every example on every page runs and prints
what the page says (as tests/test_readme.py does for the README).

Each page in docs/*.md is one doctest namespace, so a page is read on its own. Every
```python block on a page is an interactive example (``>>>``), so none goes untested.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from scalargrad import OPS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_pages_are_there() -> None:
    names = {p.stem for p in PAGES}
    assert {
        "index", "getting-started", "tour", "differentiation", "trace-tables", "diagrams",
        "step-through", "compile", "tensors", "nn", "testing", "cli", "user-ops", "files",
        "notebooks", "gallery", "speed", "api", "development", "about",
    } <= names  # fmt: skip


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    text = page.read_text(encoding="utf-8")
    for language, body in FENCE.findall(text):
        if language == "python":
            assert body.lstrip().startswith(">>>"), (
                f"{page.name}: a python block that is not a doctest:\n{body}"
            )
    before = set(OPS)
    try:
        result = doctest.testfile(
            str(page), module_relative=False, optionflags=doctest.ELLIPSIS, encoding="utf-8"
        )
    finally:  # the ops a page defines are its own: the README and other pages define them again
        for name in set(OPS) - before:
            del OPS[name]
    assert result.failed == 0
    if "```python" in text:
        assert result.attempted > 0


def test_the_op_table_is_the_readmes() -> None:
    """The tour shows the README's op table (which tests/test_ops.py checks against the registry)."""

    def table(text: str) -> str:
        return text[text.index("<!-- op-table -->") : text.index("<!-- /op-table -->")]

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = (DOCS / "tour.md").read_text(encoding="utf-8")
    assert table(tour) == table(readme)


def test_the_readme_links_to_every_page() -> None:
    """README.md is the landing page: it links to every page (relative links work on GitHub)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"(docs/{page.name}" in readme, f"README.md does not link to docs/{page.name}"
