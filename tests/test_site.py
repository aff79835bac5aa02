"""The documentation site, built once per test session and opened page by page in Chromium.

``docs/build_site.py`` builds the site (Sphinx, warnings as errors, the notebooks executed);
it is served here from localhost (http.server in a thread) and every page is opened in
Debian's Chromium (``/usr/bin/chromium``, or ``CHROMIUM``) driven by Playwright from PyPI
(never ``playwright install``). Each page must load with no failed request, no request
leaving localhost and no console error, and show no math left unrendered. The embedded
step-through page must step with the arrow keys, and the site's search must find
``node_to_grad``. Without the docs extra, KaTeX (``npm install --prefix tests/js``),
Chromium or Playwright these tests skip, except under CI (``CI`` set): there they fail.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

# myst-parser's use of Sphinx APIs that Sphinx 11 removes: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning", "ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
# what a page shows when math was left for a renderer that never ran
RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]*\$|\\begin\{|\\frac\{")


def _missing(what: str) -> None:
    message = f"{what} (the site tests need the docs extra, KaTeX from npm, Debian's chromium and Playwright)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _build_site_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "docs" / "build_site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per session into a temporary folder."""
    # The site executes the notebooks, so it needs what they need (the notebook extra). CI's
    # stage on the other Pythons installs no notebook extra and leaves the notebooks and the
    # browser tests to the main Python: there this test skips, as the notebooks' do.
    notebook_extra = ("nbclient", "ipykernel", "ipywidgets", "matplotlib", "sklearn", "numpy", "graphviz")
    absent = [m for m in notebook_extra if importlib.util.find_spec(m) is None]
    if absent:
        pytest.skip(f"the site runs the notebooks, which need {absent}: pip install -e '.[notebook,viz]'")
    for module in ("sphinx", "myst_nb", "furo", "sphinxcontrib.katex"):
        if importlib.util.find_spec(module) is None:
            _missing(f"{module} is not installed: pip install -e '.[docs]' (the test extra has it)")
    build_site = _build_site_module()
    if not (build_site.KATEX / "katex.min.css").is_file():
        _missing(f"KaTeX is not installed at {build_site.KATEX}: npm install --prefix tests/js")
    out: Path = build_site.build(tmp_path_factory.mktemp("site") / "site")
    return out


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


def test_the_site_has_every_page(site: Path) -> None:
    pages = set(site_pages(site))
    for name in (
        "index", "getting-started", "tour", "differentiation", "trace-tables", "diagrams",
        "step-through", "compile", "tensors", "nn", "testing", "cli", "user-ops", "files",
        "notebooks", "gallery", "api", "about", "search", "walkthrough",
    ):  # fmt: skip
        assert f"{name}.html" in pages, name
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks and all(f"notebooks/{n}.html" in pages for n in notebooks)
    # the notebooks were executed: their pages hold outputs (images, text)
    first = (site / "notebooks" / f"{notebooks[0]}.html").read_text(encoding="utf-8")
    assert "cell_output" in first
    # the gallery and the API reference
    assert {"reverse_steps.gif", "extended.png", "adjoint.svg"} <= {
        p.name for p in (site / "_images").iterdir()
    }
    api = (site / "api.html").read_text(encoding="utf-8")
    assert 'id="scalargrad.autodiff.grad"' in api and 'id="scalargrad.engine.Value"' in api


def test_every_page_loads_offline_with_its_math_rendered(site: Path, server: str, tab: Tab) -> None:
    pages = site_pages(site)
    rendered = 0
    for name in pages:
        tab.page.goto(server + name, wait_until="load")
        tab.page.wait_for_load_state("networkidle")
        text = tab.page.evaluate(VISIBLE_TEXT)
        raw = RAW_MATH.search(text)
        assert raw is None, f"{name}: unrendered math {text[max(0, raw.start() - 60) : raw.end() + 60]!r}"
        assert tab.page.locator(".katex-error").count() == 0, f"{name}: KaTeX could not render some math"
        rendered += tab.page.locator(".katex").count()
        assert tab.problems == [], f"{name}: {tab.problems}"
    assert rendered > 0, "no page rendered any math"


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
