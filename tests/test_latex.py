"""The LaTeX output, rendered for real: pdflatex compiles it, KaTeX renders every block.

pdflatex comes from Debian's texlive-latex-base and KaTeX from npm (tests/js/package.json);
.ci/run installs both. Without them the tests skip, except under CI (``CI`` set), where a
missing component fails the test.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import compile_latex, need_program
from hypothesis import example, given, settings
from hypothesis import strategies as st

import scalargrad as sg
from scalargrad import Value, trace
from scalargrad.ops import dot

JS = Path(__file__).parent / "js"


def need_katex() -> Path:
    node = need_program("node")
    katex = JS / "node_modules" / "katex"
    if not katex.is_dir():
        if os.environ.get("CI"):
            pytest.fail("KaTeX is not installed: npm install --prefix tests/js (.ci/run does it)")
        pytest.skip("KaTeX is not installed (npm install --prefix tests/js)")
    return Path(node)


def traces() -> dict[str, sg.Trace]:
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    x, a, b = Value(2.0, label="x"), Value(3.0, label="a"), Value(1.0, label="b")
    w, z = Value(0.0, label="w_hidden"), Value(-1.5, label="z")
    e = x1.exp()
    return {
        "notes": trace(x1.log() + x1 * x2 - x2.sin(), caption=True),
        "sigmoid": trace((a * x + b).sigmoid(), caption=True),
        "extended": trace((e + 1) * e, caption=True),
        "odd": trace(
            w.sqrt() + abs(z) ** 2 / sg.atan2(z, 1.0) - (z * 1e-9).exp() + sg.maximum(z, w), caption=True
        ),
        "several": trace([x1 * x2, x1.exp() - math.pi], caption="two outputs: 50% & more_{x}"),
        "names": trace(
            Value(2.0, label="α") * Value(3.0, label="β1")
            + Value(1.0, label="é1") * Value(4.0, label="Ωmax")
            - Value(0.5, label="a~b|c<d>\\e^") ** 2,
            caption=True,
        ),
        "special caption": trace(x1 * 2, caption="~ ^ | < > \\ α v̄₂→₅ café"),
        "array entries": trace(  # B₁,₁₂, W1₁,₂, x1₂ and labels with a bar
            Value(1.0, label="B1,12") * Value(2.0, label="W1_1,2") * Value(3.0, label="x1_2")
            + Value(4.0, label="W̄1_1,2") * Value(5.0, label="B̄1,12") * Value(6.0, label="v̄_a"),
            caption=True,
        ),
        "exponents": trace([1e-5**x1, x1 * 1e308 * 1e-300, (2 ** (x2 * 60)).log2()], caption=True),
        "dot": trace(  # a dot node: one line of products, constants and a pair of one node
            sg.tanh(dot([x1, x2, z, 2.0], [z, -x2, z, x1 - 1e-7])) * x1, caption=True
        ),
    }


@pytest.mark.parametrize("name", sorted(traces()))
def test_pdflatex_compiles_the_document(name: str, tmp_path: Path) -> None:
    result = compile_latex(traces()[name].to_latex(document=True), tmp_path)
    log = (tmp_path / "trace.log").read_text(encoding="latin-1") if (tmp_path / "trace.log").exists() else ""
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "trace.pdf").stat().st_size > 1000
    assert "Missing $ inserted" not in log and "Undefined control sequence" not in log


_RENDER = """
const katex = require(process.argv[process.argv.length - 1]);
const blocks = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = blocks.map((tex) => {
  try {
    const html = katex.renderToString(tex, {displayMode: true, throwOnError: true, strict: "error"});
    return {ok: true, length: html.length, error: html.includes("katex-error")};
  } catch (e) {
    return {ok: false, message: String(e.message)};
  }
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.parametrize("name", sorted(traces()))
def test_katex_renders_every_block(name: str) -> None:
    node = need_katex()
    t = traces()[name]
    blocks = [b.removeprefix("$$").removesuffix("$$") for b in t.latex_blocks()]
    cells = []
    for line in t.to_markdown().splitlines():  # Markdown's math cells go through KaTeX/MathJax too
        cells += [c.strip().strip("$") for c in line.split("|") if c.strip().startswith("$")]
    result = subprocess.run(
        [str(node), "-e", _RENDER, str(JS / "node_modules" / "katex")],
        input=json.dumps(blocks + cells),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    failures = [(tex, r) for tex, r in zip(blocks + cells, rendered) if not r["ok"] or r.get("error")]
    assert not failures, failures[:3]
    assert all(r["length"] > 100 for r in rendered[: len(blocks)])


HOSTILE_TEXT = st.sampled_from(
    [chr(c) for c in range(32, 127)]
    + ["\n", "\x00", "\x1b", "\t", "\x7f", "\u2028", "\u200b", "α", "θ", "é", "→", "·", "₁"]
)
"""Characters of labels and captions: ASCII (LaTeX's specials among them), control and format
characters, and the non-ASCII ones the notes use (pdflatex has no glyph for most others)."""


@settings(max_examples=12, deadline=None)
@given(label=st.text(HOSTILE_TEXT, min_size=1, max_size=12), caption=st.text(HOSTILE_TEXT, max_size=20))
@example(label="a\x1bb", caption="x\n\ny\x00 {%} \\end{document}")
def test_any_label_or_caption_makes_a_document_pdflatex_compiles(
    label: str, caption: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """issue 21: labels and captions holding newlines, NUL, ESC, braces, ``%`` or ``\\`` are
    escaped (control characters shown as ``\\n``, ``\\x1b``), so the document compiles."""
    x = Value(2.0, label=label)
    doc = trace(x.exp() * x, caption=caption or True).to_latex(document=True)
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in doc.replace("\n", ""))
    done = compile_latex(doc, tmp_path_factory.mktemp("hostile"))
    assert done.returncode == 0, done.stdout[-2000:]
