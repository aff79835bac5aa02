"""The documentation site, built once per test session and opened page by page in Chromium.

``docs/build_site.py`` builds the site (Sphinx, warnings as errors). Its build is the slowest
thing the tests do, so it starts as soon as pytest has chosen the tests to run, if a site
test is among them (``pytest_collection_finish`` in conftest.py calls :func:`start_build`), in a
process of its own, and runs while the tests before these run; the ``site`` fixture waits for
it (the whole build when this module runs alone). It runs notebook 07, whose step-through
widget shows its saved HTML; the other notebooks are shown without outputs:
tests/test_notebooks.py runs every notebook, and ``python docs/build_site.py`` (the published
site) too.

The site is served from localhost (http.server in a thread) and every page is opened in
Debian's Chromium (``/usr/bin/chromium``, or ``CHROMIUM``) driven by Playwright from PyPI
(never ``playwright install``), one test per page (the pages of the modules' source, which
Sphinx generates, a few pages per test). Each page must load with no failed request, no
request leaving localhost and no console error, and show no math left unrendered: every
math element rendered by KaTeX. The embedded step-through page must step with the arrow
keys, and the site's search must find ``node_to_grad``. Without the docs extra, KaTeX
(``npm install --prefix tests/js``), Chromium or Playwright these tests skip, except under CI
(``CI`` set): there they fail.
"""

from __future__ import annotations

import atexit
import functools
import http.server
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# myst-parser's use of Sphinx APIs that Sphinx 11 removes: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning", "ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "tests" / "js" / "node_modules" / "katex" / "dist"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
# the notebook the tests' build runs: its widget's saved HTML must work offline
EXECUTED = "07_watch_reverse_mode"
# what running it needs (the notebook extra, and graphviz for its pictures)
KERNEL_NEEDS = ("nbclient", "ipykernel", "ipywidgets", "graphviz")
BUILD_TIMEOUT = 900  # seconds
# what a page shows when math was left for a renderer that never ran
RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]*\$|\\begin\{|\\frac\{")


def _missing(what: str) -> None:
    message = f"{what} (the site tests need the docs extra, KaTeX from npm, Debian's chromium and Playwright)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Build:
    """``python docs/build_site.py`` into ``out``, running in the background (``process``), or
    why it could not start (``missing``)."""

    out: Path
    log: Path
    executed: bool
    process: subprocess.Popen[bytes] | None = None
    missing: str | None = None

    @classmethod
    def start(cls, folder: Path) -> Build:
        executed = all(importlib.util.find_spec(m) is not None for m in KERNEL_NEEDS)
        build = cls(folder / "site", folder / "build.log", executed)
        for module in ("sphinx", "myst_nb", "furo", "sphinxcontrib.katex"):
            if importlib.util.find_spec(module) is None:
                build.missing = f"{module} is not installed: pip install -e '.[docs]' (the test extra has it)"
                return build
        if not (KATEX / "katex.min.css").is_file():
            build.missing = f"KaTeX is not installed at {KATEX}: npm install --prefix tests/js"
            return build
        command = [sys.executable, str(ROOT / "docs" / "build_site.py"), "-o", str(build.out)]
        command += ["--execute", EXECUTED] if executed else ["--no-execute"]
        with build.log.open("wb") as log:  # its own session: stopped with its kernel, if unused
            build.process = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return build

    def wait(self) -> Path:
        if self.missing is not None:
            _missing(self.missing)
        assert self.process is not None
        try:
            status = self.process.wait(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"the site did not build in {BUILD_TIMEOUT} s")
        if status:
            log = self.log.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"python docs/build_site.py failed (status {status}):\n{log[-20_000:]}")
        return self.out

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


BUILD: Build | None = None
"""The session's build, once :func:`start_build` started it."""


def start_build() -> Build:
    """Start the site's build (once per session), and stop it when the session ends, even by
    SIGTERM (a CI timeout), so that no build outlives the tests."""
    global BUILD
    if BUILD is not None:
        return BUILD
    folder = Path(tempfile.mkdtemp(prefix="scalargrad-site-test-"))
    build = BUILD = Build.start(folder)

    def clean_up() -> None:
        build.stop()
        shutil.rmtree(folder, ignore_errors=True)

    def terminated(signum: int, frame: object) -> None:
        clean_up()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    atexit.register(clean_up)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)
    return build


@pytest.fixture(scope="session")
def site() -> Path:
    """The site, built once per session (started when the tests were chosen)."""
    return start_build().wait()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 (a free port), as its base URL."""
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class Tab:
    """One browser page on the site: requests off localhost are refused and recorded, as are
    failed requests, error responses, console errors and uncaught exceptions."""

    def __init__(self, browser: Any, base: str) -> None:
        self.origin = urlsplit(base).netloc
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        self.page.on(
            "console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None
        )

    def _route(self, route: Any) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob", "about") or (url.scheme == "http" and url.netloc == self.origin):
            route.continue_()
        else:
            self.problems.append(f"left localhost: {route.request.url}")
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Tab]:
    t = Tab(browser, server)
    yield t
    t.close()


@pytest.fixture(scope="module")
def reader(browser: Any, server: str) -> Iterator[Tab]:
    """One tab for the page tests, opening one page after another."""
    t = Tab(browser, server)
    yield t
    t.close()


# the visible text outside code, preformatted output and rendered math
VISIBLE_TEXT = """() => {
  const skip = "pre, code, script, style, textarea, .katex, .highlight, .output, .cell_output";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.getClientRects().length) continue;
    out.push(n.textContent);
  }
  return out.join(" ");
}"""


def site_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


# the pages the sources name: the Markdown pages, the notebooks and what Sphinx adds to them
PAGES = [
    *(f"{p.stem}.html" for p in sorted((ROOT / "docs").glob("*.md"))),
    *(f"notebooks/{name}.html" for name in NOTEBOOKS),
    *("genindex.html", "py-modindex.html", "search.html", "walkthrough.html", "_modules/index.html"),
]
# the others, the modules' source as Sphinx shows it (_modules/...), are checked in this many
# groups (every other page of the site in one of them): a few pages per test
SHARDS = 12


def test_the_site_has_every_page(site: Path) -> None:
    pages = set(site_pages(site))
    for name in (
        "index", "getting-started", "tour", "differentiation", "trace-tables", "diagrams",
        "step-through", "compile", "tensors", "nn", "testing", "cli", "user-ops", "files",
        "notebooks", "gallery", "api", "about", "search", "walkthrough",
    ):  # fmt: skip
        assert f"{name}.html" in pages, name
    assert set(PAGES) <= pages, sorted(set(PAGES) - pages)
    assert NOTEBOOKS and all(f"notebooks/{n}.html" in pages for n in NOTEBOOKS)
    # the site has math, for KaTeX to render (every page's test checks that it did)
    assert any('class="math' in (site / name).read_text(encoding="utf-8") for name in PAGES)
    # the gallery and the API reference
    assert {"reverse_steps.gif", "extended.png", "adjoint.svg"} <= {
        p.name for p in (site / "_images").iterdir()
    }
    api = (site / "api.html").read_text(encoding="utf-8")
    assert 'id="scalargrad.autodiff.grad"' in api and 'id="scalargrad.core.value.Value"' in api


def test_the_executed_notebook_shows_its_outputs(site: Path) -> None:
    """Notebook 07 ran: its page holds outputs, the widget's saved HTML among them (the page
    test checks that it loads offline)."""
    if not start_build().executed:
        pytest.skip(f"running notebook {EXECUTED} needs {KERNEL_NEEDS}: pip install -e '.[notebook,viz]'")
    page = (site / "notebooks" / f"{EXECUTED}.html").read_text(encoding="utf-8")
    assert "cell_output" in page
    assert "<div class='sgw'" in page  # the StepThrough widget, as its saved HTML


def problems_of(tab: Tab, server: str, name: str) -> list[str]:
    """Open page ``name``: what went wrong (requests, errors, math left unrendered), if anything.
    A problem the page before had after it was left is reported here, not lost."""
    tab.page.goto(server + name, wait_until="load")
    tab.page.wait_for_load_state("networkidle")
    found = [f"{name}: {p}" for p in tab.problems]
    tab.problems.clear()
    text = tab.page.evaluate(VISIBLE_TEXT)
    if raw := RAW_MATH.search(text):
        found.append(f"{name}: unrendered math {text[max(0, raw.start() - 60) : raw.end() + 60]!r}")
    if tab.page.locator(".katex-error").count():
        found.append(f"{name}: KaTeX could not render some math")
    unrendered = tab.page.locator(".math:not(:has(.katex))").count()
    if unrendered:
        found.append(f"{name}: {unrendered} math elements not rendered by KaTeX")
    return found


@pytest.mark.parametrize("name", PAGES)
def test_the_page_loads_offline_with_its_math_rendered(server: str, reader: Tab, name: str) -> None:
    assert problems_of(reader, server, name) == []


@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_other_pages_load_offline_with_their_math_rendered(
    site: Path, server: str, reader: Tab, shard: int
) -> None:
    others = [name for name in site_pages(site) if name not in PAGES]
    assert len(others) >= SHARDS  # the source pages, for every documented module
    found = [problem for name in others[shard::SHARDS] for problem in problems_of(reader, server, name)]
    assert found == []


def test_the_embedded_step_through_page_steps_with_the_arrow_keys(server: str, tab: Tab) -> None:
    page = tab.page
    page.goto(server + "step-through.html", wait_until="load")
    frame = page.frame_locator("iframe#walkthrough")
    frame.locator(".sgw[data-ready='1']").wait_for()
    root = frame.locator(".sgw").first

    def step() -> int:
        return int(root.get_attribute("data-step") or 0)

    frame.locator(".sgw-count").first.click()  # focus the page inside the frame
    start = step()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert step() == start + 2
    page.keyboard.press("ArrowLeft")
    assert step() == start + 1
    page.keyboard.press("Home")
    assert step() == 1
    assert tab.problems == []


def test_search_finds_node_to_grad(server: str, tab: Tab) -> None:
    page = tab.page
    page.goto(server + "search.html?q=node_to_grad", wait_until="load")
    # results are shown one by one; the summary says when the search has finished
    page.wait_for_function(
        "() => /Search finished|did not match/"
        ".test(document.querySelector('#search-results')?.textContent ?? '')",
        timeout=30_000,
    )
    results = page.locator("#search-results ul.search li a")
    found = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(href.startswith("step-through.html") for href in found), found
    assert tab.problems == []
