"""Every script in examples/ runs to completion (``python examples/NAME.py``) and prints what it shows."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))

# Optional packages (the ``examples`` extra) a script needs; it is skipped when one is missing,
# unless the environment variable CI is set (CI installs every extra), where it fails.
NEEDS = {"train_classifier.py": ("sklearn", "matplotlib", "tqdm")}

# Arguments that keep a script fast under test, with {tmp} for a temporary directory.
ARGS = {"train_classifier.py": ["--epochs", "25", "--no-progress", "--out", "{tmp}/loss.png"]}

# Lines (regular expressions) the output must contain.
EXPECT = {
    "sigmoid_example.py": [
        r"^y = 0\.99909$",
        r"^symbolic\s+0\.00273\s+0\.00182\s+0\.00091$",
        r"^central differences \(eps=1e-5\)\s+0\.00273\s+0\.00182\s+0\.00091$",
        r"^autodiff \(reverse mode\)\s+0\.00273\s+0\.00182\s+0\.00091$",
        r"^max \|autodiff - central differences\| = \d\.\de-(1[0-9]|0[7-9])$",
        r"dy/dx = sigmoid\(a\*x \+ b\)\*sigmoid\(-\(a\*x \+ b\)\)\*a$",
    ],
    "extended_graph.py": [
        r"^y = v4 = \(exp\(v1\) \+ 1\)\*exp\(v1\)",
        r"^  v̄1 = \(v3 \+ v2\)\*v2$",
        r"value 17\.496394026320\s+closed form 2e\^\(2x\) \+ e\^x = 17\.496394026320$",
        r"value 32\.274506224182\s+closed form 4e\^\(2x\) \+ e\^x = 32\.274506224182$",
        r"^matches the closed forms: yes$",
    ],
    "notes_example.py": [
        r"^y = ln\(x1\) \+ x1\*x2 - sin\(x2\) = 11\.652$",
        r"^central differences:\s+dy/dx1 = 5\.500\s+dy/dx2 = 1\.716$",
        r"^forward mode:\s+dy/dx1 = 5\.500\s+dy/dx2 = 1\.716$",
        r"^reverse mode:\s+x1\.grad = 5\.500\s+x2\.grad = 1\.716$",
        r"^gradient graph: dy/dx1 = x2 \+ 1/x1 = 5\.500\s+dy/dx2 = -cos\(x2\) \+ x1 = 1\.716$",
        r"^max \|reverse mode - central differences\| = \d\.\de-(1[0-9]|0[7-9])$",
        r"^  v₇ = v₆ − v₅ = 10\.693 − \(−0\.959\) = 11\.652$",
        r"^  ∂y/∂x₁ = v̇₇ = 5\.5$",
        r"^  v̇₇ = v̇₆ − v̇₅ = 2 − 0\.284 = 1\.716$",
        r"^  v̄₂ = v̄₅·cos\(v₂\) \+ v̄₄·v₁ = −1·cos\(5\) \+ 1·2 = −0\.284 \+ 2 = 1\.716$",
        r"^  v̄₁ = v̄₄·v₂ \+ v̄₃·\(1/v₁\) = 1·5 \+ 1·\(1/2\) = 5 \+ 0\.5 = 5\.5$",
    ],
    "one_hidden_layer.py": [
        r"^L = ½‖y − W2 tanh\(W1 x\)‖² = 0\.782397",
        # the autodiff gradients agree with the hand-derived formulas to rounding (< 1e-10)
        r"^∂L/∂W2 \(autodiff\)  — max \|autodiff − hand formula\| = (0\.0e\+00|\d\.\de-(1\d|[2-9]\d))$",
        r"^∂L/∂W1 \(autodiff\)  — max \|autodiff − hand formula\| = (0\.0e\+00|\d\.\de-(1\d|[2-9]\d))$",
        r"^∂L/∂x \(autodiff\)  — max \|autodiff − hand formula\| = (0\.0e\+00|\d\.\de-(1\d|[2-9]\d))$",
        r"^    \[\+0\.101624, \+0\.187338, -0\.247112, -0\.271216\]$",
        r"^backward matches the notes' formulas: yes$",
        r"^  step  0: L = 0\.782397$",
        r"^  step 30: L = 0\.0000\d\d$",
    ],
    "train_classifier.py": [
        r"^dataset: iris \(112 train / 38 test, 4 features, 3 classes",
        r"^train accuracy: (0\.9\d\d|1\.000)$",
        r"^test accuracy: (0\.9\d\d|1\.000)$",
        r"^saved loss curve to .*loss\.png$",
    ],
    "tensor_rules.py": [r"^  MatMul\s+ok ", r"^  X̄₁₁ should be Z̄₁₁·W₁₁ \+ Z̄₁₂·W₁₂ = "],
    "tensor_trace.py": [r"^  X̄ = Z̄Wᵀ = \[−1 9; 0 16\.5\]   equals grad\(v, X\): True$", r"^grad\(v, d\) = "],
}


def need(module: str) -> None:
    """Skip without ``module`` (an optional extra), but fail under CI (``CI`` set), which installs them."""
    if os.environ.get("CI"):
        importlib.import_module(module)
    else:
        pytest.importorskip(module)


def run(script: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=EXAMPLES.parent,
        env=env,
    )


def test_the_expected_examples_exist() -> None:
    assert set(EXPECT) <= set(SCRIPTS)


@pytest.mark.example
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script: str, tmp_path: Path) -> None:
    for module in NEEDS.get(script, ()):
        need(module)
    args = [a.replace("{tmp}", str(tmp_path)) for a in ARGS.get(script, [])]
    result = run(script, args)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), f"{script} printed nothing"
    for pattern in EXPECT.get(script, []):
        found = re.search(pattern, result.stdout, re.MULTILINE)
        assert found, f"{script}: no line matches {pattern!r}:\n{result.stdout}"
    if script == "train_classifier.py":
        png = tmp_path / "loss.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.example
def test_train_classifier_compiled(tmp_path: Path) -> None:
    """--compiled trains again from the same start on compiled code: the same losses, both times printed."""
    for module in NEEDS["train_classifier.py"]:
        need(module)
    args = ["--epochs", "10", "--no-progress", "--out", str(tmp_path / "loss.png"), "--compiled"]
    result = run("train_classifier.py", args)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    losses = r"loss (\d\.\d{4}) -> (\d\.\d{4})$"
    graph = re.search(r"^trained 10 epochs in [\d.]+ s: " + losses, out, re.MULTILINE)
    head = r"^compiled: trained 10 epochs in [\d.]+ s \(compiling [\d.]+ s of it\): "
    compiled = re.search(head + losses, out, re.MULTILINE)
    assert graph and compiled, out
    assert graph.groups() == compiled.groups()  # the same training, to rounding
    times = r"^time: graph engine [\d.]+ s, compiled [\d.]+ s \([\d.]+x faster\)$"
    assert re.search(times, out, re.MULTILINE)
    assert re.search(r"^test accuracy: (0\.9\d\d|1\.000)$", out, re.MULTILINE)


@pytest.mark.example
def test_progress_bar_stays_out_of_captured_output(tmp_path: Path) -> None:
    """Captured or logged output (stderr not a terminal) gets no progress bar, not one line per update."""
    for module in NEEDS["train_classifier.py"]:
        need(module)
    result = run("train_classifier.py", ["--epochs", "5", "--out", str(tmp_path / "loss.png")])
    assert result.returncode == 0, result.stderr
    assert "epoch" not in result.stderr and "\r" not in result.stderr and "%|" not in result.stderr


@pytest.mark.example
def test_train_classifier_rejects_bad_arguments() -> None:
    for module in NEEDS["train_classifier.py"]:
        need(module)
    result = run("train_classifier.py", ["--epochs", "0"])
    assert result.returncode == 2
    assert "--epochs, --batch-size and --hidden must be positive" in result.stderr


@pytest.mark.example
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "0"], "--lr must be a positive finite number, got 0.0"),
        (["--lr", "-1"], "--lr must be a positive finite number, got -1.0"),
        (["--lr", "nan"], "--lr must be a positive finite number, got nan"),
        (["--momentum", "1"], r"--momentum must be a number in [0, 1), got 1.0"),
        (["--momentum", "-0.5"], r"--momentum must be a number in [0, 1), got -0.5"),
        (["--out", "{tmp}/loss.xyz"], "unsupported file type '.xyz'"),
        (["--out", "{tmp}/file/loss.png"], "cannot create its directory"),
        (["--out", "{tmp}"], "unsupported file type '(none)'"),
    ],
)
def test_train_classifier_rejects_bad_values_before_training(
    args: list[str], message: str, tmp_path: Path
) -> None:
    for module in NEEDS["train_classifier.py"]:
        need(module)
    (tmp_path / "file").write_text("not a directory")
    result = run("train_classifier.py", ["--no-progress", *(a.replace("{tmp}", str(tmp_path)) for a in args)])
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "dataset:" not in result.stdout  # rejected before training started


def test_gallery_shows_what_the_library_draws_now() -> None:
    """The README gallery (docs/, made by docs/make_gallery.py) is up to date with the library."""
    import xml.etree.ElementTree as ET

    svg = EXAMPLES.parent / "docs" / "adjoint.svg"
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text.strip() for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text}
    assert {"v₁ = x₁", "v₂ = x₂", "11.652", "v̄₁ = 5.5", "v̄₂ = 1.716"} <= texts, sorted(texts)
    from PIL import Image  # the viz extra

    with Image.open(EXAMPLES.parent / "docs" / "extended.png") as png:
        assert png.format == "PNG" and png.width > 1000
    with Image.open(EXAMPLES.parent / "docs" / "reverse_steps.gif") as gif:
        assert gif.n_frames == 7  # one frame per step of the notes' example


def test_every_declared_pytest_marker_is_used() -> None:
    """pyproject.toml's markers are the ones the tests use (an unused marker is a dead option)."""
    import tomllib

    config = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {m.split(":")[0].strip() for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    sources = "".join(p.read_text(encoding="utf-8") for p in (EXAMPLES.parent / "tests").glob("*.py"))
    unused = sorted(m for m in declared if f"pytest.mark.{m}" not in sources)
    assert not unused, f"markers declared in pyproject.toml but never used: {unused}"
