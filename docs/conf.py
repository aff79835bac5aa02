"""Sphinx configuration of scalargrad's documentation site.

Build the site with ``python docs/build_site.py`` (see that file): it stages these pages with
the notebooks, KaTeX's stylesheet and fonts and a step-through page, then runs Sphinx with
warnings as errors. Nothing here, nor in the built site, is fetched from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# the package: the checkout's own, even when staged elsewhere (build_site.py sets SCALARGRAD_ROOT)
sys.path.insert(0, str(Path(__import__("os").environ.get("SCALARGRAD_ROOT", ROOT.parent))))

import scalargrad  # noqa: E402

project = "scalargrad"
author = "the scalargrad authors"
copyright = "the scalargrad authors, MIT licence"
release = version = scalargrad.__version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and the notebooks, executed at build time
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinxcontrib.katex",  # math rendered by KaTeX in the browser, from files in the site
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "**/.ipynb_checkpoints", "_extra"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# the notebooks run once per build, in their own folder (notebook 04 imports ../examples)
nb_execution_mode = "force"
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# widgets would need widget JavaScript from a CDN: show their saved HTML fallback instead
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True  # defaults as written (NAMED_CONSTANTS), not their repr
autodoc_default_options = {"members": True, "show-inheritance": True}

# KaTeX: sphinxcontrib-katex ships katex.min.js and auto-render; the stylesheet and the
# fonts are copied by build_site.py from tests/js/node_modules/katex (npm), into _static/katex.
katex_css_path = "katex/katex.min.css"
katex_prerender = False

html_theme = "furo"  # system fonts only: no web fonts, nothing from a CDN
html_title = f"scalargrad {release}"
html_static_path = ["_static"]
html_extra_path = ["_extra"]  # the step-through page, written by build_site.py
html_last_updated_fmt = None
html_show_sourcelink = False
