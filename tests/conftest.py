"""Hypothesis profiles: "ci" (default, fast) and "thorough" (HYPOTHESIS_PROFILE=thorough),
and the real browser the page and site tests share."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # headless, and no connection of Chromium's own (the network is closed)
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing(what: str) -> None:
    """Skip for want of a real component, or fail under CI (``CI`` set), which installs it."""
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium (``CHROMIUM``), driven by Playwright from PyPI; never a browser of
    Playwright's own download."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install playwright (the browser tests need it)")
    if not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM}: apt-get install chromium (the browser tests need it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def need_program(name: str) -> str:
    """The path of program ``name``: skipped without it, a failure under CI (.ci/run installs it)."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (.ci/run installs it)")
    assert path is not None
    return path


def compile_latex(source: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run a real pdflatex on ``source`` as ``folder/trace.tex`` (trace.pdf and trace.log beside it)."""
    pdflatex = need_program("pdflatex")
    (folder / "trace.tex").write_text(source, encoding="utf-8")
    return subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "trace.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the documentation site's build as soon as the tests are chosen, if a site test is
    among them: it then runs while the other tests do (see tests/test_site.py)."""
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rpartition(".")[2] == "test_site":
            module.start_build()
            return
