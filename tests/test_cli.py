"""The scalargrad command line: the notes' example, JSON, diagrams, and one-line errors (exit 2)."""

import contextlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import compile_latex, need_program
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from scalargrad.cli import main
from scalargrad.expr import parse
from scalargrad.testing import ALL_OPS, GeneratedExpression, expressions_and_points

NOTES = "ln(x1) + x1*x2 - sin(x2)"
_PLAIN = str.maketrans("₀₁₂₃₄₅₆₇₈₉−", "0123456789-")


def plain(text: str) -> str:
    """``text`` with subscript digits and the minus sign written as ASCII (v₃ -> v3, − -> -)."""
    return text.translate(_PLAIN)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_notes_example_prints_the_three_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5")
    assert code == 0 and err == ""
    lines = plain(out).splitlines()
    assert lines[0] == "y = ln(x1) + x1*x2 - sin(x2) at x1 = 2, x2 = 5"
    for line in [
        "Forward evaluation trace",
        "  v3 = ln(v1) = ln(2) = 0.693",
        "  v7 = v6 - v5 = 10.693 - (-0.959) = 11.652",
        "Forward mode AD trace w.r.t. x1",
        "  v̇4 = v2·v̇1 + v1·v̇2 = 5·1 + 2·0 = 5",
        "  ∂y/∂x1 = v̇7 = 5.5",
        "Forward mode AD trace w.r.t. x2",
        "  ∂y/∂x2 = v̇7 = 1.716",
        "Reverse mode AD trace",
        "  v̄2 = v̄5·cos(v2) + v̄4·v1 = -1·cos(5) + 1·2 = -0.284 + 2 = 1.716",
        "  ∂y/∂x1 = v̄1 = 5.5",
    ]:
        assert line in lines


def test_wrt_selects_the_tangent_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--wrt", "x2")
    assert code == 0
    assert "w.r.t. x2" in plain(out) and "w.r.t. x1" not in plain(out)


def test_values_and_options_may_be_intermixed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, NOTES, "x1=2", "--wrt", "x1", "x2=5", "--digits", "5")
    assert code == 0 and "  y = v7 = 11.65207" in plain(out)


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sigmoid(a*x + b)", "x=2", "a=3", "b=1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["values"] == {"a": 3.0, "x": 2.0, "b": 1.0}
    assert data["value"] == pytest.approx(0.9990889488055994)
    grads = {row["node"]: row["value"] for row in data["trace"]["adjoint"]["summary"]}
    assert grads == pytest.approx({"dy/da": 0.0018204, "dy/dx": 0.0027306, "dy/db": 0.00091022}, rel=1e-3)
    assert [t["wrt"] for t in data["trace"]["tangents"]] == ["a", "x", "b"]


@pytest.mark.parametrize(
    ("fmt", "marker"), [("markdown", "| node |"), ("latex", r"\begin{aligned}"), ("html", "<table")]
)
def test_other_formats(capsys: pytest.CaptureFixture[str], fmt: str, marker: str) -> None:
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--format", fmt)
    assert code == 0 and marker in out


@pytest.mark.parametrize("kind", ["forward", "tangent", "adjoint", "extended"])
def test_draw_writes_svg(capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str) -> None:
    target = tmp_path / "graph.svg"
    code, out, err = run(
        capsys, NOTES, "x1=2", "x2=5", "--draw", kind, "-o", str(target), "--backend", "wasm"
    )
    assert code == 0
    assert err == f"scalargrad: wrote the {kind} diagram to {target}\n"
    assert "Reverse mode AD trace" in out
    root = ET.fromstring(target.read_bytes())
    texts = [plain(t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "v3 = ln(v1)" in texts


def test_draw_other_formats_and_no_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "graph.out"
    code, out, _ = run(
        capsys,
        NOTES,
        "x1=2",
        "x2=5",
        "--draw",
        "adjoint",
        "-o",
        str(target),
        "--image-format",
        "plain",
        "--no-trace",
    )
    assert code == 0 and out == ""
    assert target.read_text().startswith("graph ")


def test_json_names_the_diagram(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "g.dot"
    code, out, _ = run(
        capsys, NOTES, "x1=2", "x2=5", "--format", "json", "--draw", "forward", "-o", str(target)
    )
    assert code == 0 and json.loads(out)["diagram"] == str(target)
    assert "digraph" in target.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x +", "x=1"], "invalid syntax"),
        (["foo(x)", "x=1"], "unknown function 'foo'"),
        (["x.real", "x=1"], "not allowed: attribute access"),
        (["__import__('os').system('echo hi')"], "not allowed"),
        (["x + y", "x=1"], "no value for 'y'"),
        (["x", "x=abc"], "the value of 'x' is not a number: 'abc'"),
        (["x", "x=nan"], "finite"),
        (["x", "x=1", "x=2"], "'x' is given more than once"),
        (["x", "x"], "expected NAME=VALUE"),
        (["x", "1x=2"], "not a valid variable name"),
        (["x", "x=1", "z=2"], "'z' does not appear"),
        (["2 + 3"], "no variables"),
        (["ln(x)", "x=0"], "log: math domain error"),
        (["1/(x-1)", "x=1"], "division by zero"),
        (["exp(x)", "x=1000"], "too large"),
        (["x ** 99999", "x=2"], "exponent 99999 is too large"),
        (["x" + "+x" * 999, "x=1"], "too large"),
        (["x" * 3000, "x" * 3000 + "=1"], "too long"),
        (["x", "x=1", "--wrt", "y"], "--wrt y: not a variable"),
        (["x", "x=1", "--draw", "adjoint"], "--draw needs -o"),
        (["x", "x=1", "-o", "g.svg"], "need --draw"),
        (["x", "x=1", "--draw", "sideways", "-o", "g.svg"], "invalid choice: 'sideways'"),
        (["x", "x=1", "--draw", "forward", "-o", "g.bmp"], "unknown diagram format '.bmp'"),
        (["x", "x=1", "--draw", "forward", "-o", "graph"], "cannot tell the format"),
        (["x", "x=1", "--format", "yaml"], "invalid choice: 'yaml'"),
        (["x", "x=1", "--digits", "two"], "--digits: must be 'auto' or an integer from 1 to 15, got 'two'"),
        (["x", "x=1", "--digits", "0"], "--digits: must be 'auto' or an integer from 1 to 15, got 0"),
        (["x", "x=1", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: expression"),
        (
            ["x*x*x", "x=1", "--draw", "forward", "-o", "g.svg", "--max-nodes", "2"],
            "more than --max-nodes 2; pass a larger --max-nodes",
        ),
        (["x+y", "x=1", "y=2", "--wrt", "x", "--wrt", "x"], "--wrt x is given more than once"),
        (["x1+y", "x1=1", "y=2", "--wrt", "x1", "--wrt", "x₁"], "--wrt x1 is given more than once"),
        (["x", "x=1", "--no-trace"], "--no-trace prints nothing and there is nothing to write"),
        (["sin(pi*x)", "x=1", "pi=3"], "'pi' is the constant 3.14159"),
        (["e*x", "x=1", "e=2"], "'e' is the constant 2.71828"),
        (["x", "x=1", "--draw", "forward", "-o", "missing/g.svg"], "-o missing/g.svg: the directory"),
        (["x", "x=1", "--draw", "forward", "-o", "."], "-o .: a directory, not a regular file"),
        (["x", "x=1", "--draw", "forward", "-o", "/dev/null"], "a character device, not a regular file"),
        (["x", "x=1", "--wrt", "pi"], "--wrt pi: not a variable"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("scalargrad: error: ")
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_format_without_system_graphviz_fails_with_install_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "x*x", "x=1", "--draw", "forward", "-o", str(tmp_path / "g.gif"), "--backend", "wasm"
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "needs the system Graphviz: install Graphviz" in err


def _subprocess(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scalargrad", *argv], capture_output=True, text=True, timeout=60, check=False
    )


def test_python_dash_m_runs_the_command_line() -> None:
    done = _subprocess(NOTES, "x1=2", "x2=5")
    assert done.returncode == 0, done.stderr
    assert "  v̄1 = v̄4·v2 + v̄3·(1/v1) = 1·5 + 1·(1/2) = 5 + 0.5 = 5.5" in plain(done.stdout).splitlines()


@pytest.mark.parametrize(
    "argv",
    [
        ["sin(x", "x=1"],
        ["x", "x=one"],
        ["ln(x)", "x=-1"],
        ["x", "--nope"],
        ["1if x else 2", "x=1"],  # Python warns about "1if" while parsing
        ["x", "x=0x1for"],
    ],
)
def test_no_traceback_in_a_real_process(argv: list[str]) -> None:
    done = _subprocess(*argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("scalargrad") is None, reason="the console script is not installed on PATH")
def test_console_script() -> None:
    done = subprocess.run(
        ["scalargrad", "x*x", "x=3"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "∂y/∂x = v̄1 = 6" in plain(done.stdout)


def test_real_process_drawing_leaves_stderr_clean(tmp_path: Path) -> None:
    target = tmp_path / "graph.svg"
    done = _subprocess(NOTES, "x1=2", "x2=5", "--draw", "extended", "-o", str(target), "--backend", "wasm")
    assert done.returncode == 0
    # one line, and no wasmtime finalizer noise at interpreter shutdown
    assert done.stderr == f"scalargrad: wrote the extended diagram to {target}\n"
    assert target.read_bytes().startswith(b"<?xml")


# --------------------------------------------------------------------------- #
# "--", and no traceback whatever the numbers                                  #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("argv", "first_line", "gradient"),
    [
        (["--", "-x", "x=2"], "y = -x at x = 2", "  ∂y/∂x = v̄1 = -1"),
        (["--", "-x*2", "x=2"], "y = -x*2 at x = 2", "  ∂y/∂x = v̄1 = -2"),
        (["--", "-(-x)", "x=2"], "y = -(-x) at x = 2", "  ∂y/∂x = v̄1 = 1"),
        (["--digits", "2", "--", "-x", "x=2"], "y = -x at x = 2", "  ∂y/∂x = v̄1 = -1"),
        # an input named y: the output is called f, so ∂f/∂y and not ∂y/∂y
        (["--wrt", "x", "--", "-x*y", "x=2", "y=3"], "f = -x*y at x = 2, y = 3", "  ∂f/∂x = v̄1 = -3"),
    ],
)
def test_double_dash_makes_the_rest_positional(
    capsys: pytest.CaptureFixture[str], argv: list[str], first_line: str, gradient: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    lines = plain(out).splitlines()
    assert lines[0] == first_line and gradient in lines


def test_double_dash_keeps_options_before_it_and_nothing_after_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "x", "--", "x=1", "--wrt", "x")
    assert code == 2 and "expected NAME=VALUE, got '--wrt'" in err
    code, _, err = run(capsys, "--")
    assert code == 2 and "required: expression" in err


def _assert_one_line_error(err: str, message: str) -> None:
    assert err.count("\n") == 1 and err.startswith("scalargrad: error: "), err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "error", [OverflowError("derivative too large"), ZeroDivisionError("x / 0"), ValueError("bad")]
)
def test_number_errors_while_tracing_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: Exception
) -> None:
    import scalargrad.cli

    def failing_trace(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(scalargrad.cli, "trace", failing_trace)
    code, out, err = run(capsys, "x*x", "x=2")
    assert code == 2 and out == ""
    _assert_one_line_error(err, f"cannot trace the expression: {error}")
    target = tmp_path / "g.svg"
    code, out, err = run(capsys, "x*x", "x=2", "--format", "json", "--draw", "forward", "-o", str(target))
    assert code == 2 and out == "" and not target.exists()  # no diagram without its traces
    _assert_one_line_error(err, f"cannot trace the expression: {error}")


def test_number_errors_while_drawing_are_one_line_exit_2_and_write_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import scalargrad.viz

    def failing_draw(*args: object, **kwargs: object) -> None:
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(scalargrad.viz, "draw", failing_draw)
    code, out, err = run(capsys, "x*x", "x=2", "--draw", "adjoint", "-o", str(tmp_path / "g.svg"))
    assert code == 2 and out == ""
    _assert_one_line_error(err, "cannot draw the adjoint diagram: int too large to convert to float")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("expression", "value"), [("x**-2", "x=1e-103"), (" (1e-300)**y", "y=-0.5")])
def test_huge_derivatives_never_give_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, expression: str, value: str
) -> None:
    for kind in ("adjoint", "extended"):
        code, _, err = run(capsys, expression, value, "--draw", kind, "-o", str(tmp_path / "g.dot"))
        assert code == 0 or (code == 2 and err.count("\n") == 1), err


def test_draw_without_the_viz_extra_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` raises ImportError
    target = tmp_path / "g.svg"
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", "--draw", "forward", "-o", str(target))
    assert code == 1 and out == ""
    _assert_one_line_error(err, "draw needs the graphviz package: pip install 'scalargrad-autodiff[viz]'")
    assert not target.exists()


# The fuzz test: random expressions of the allowed grammar, extreme numbers and values.
_NUMBERS = ["0", "1", "2", "0.5", "3", "0.0", "1e-300", "1e300", "1e-103", "1e308", "5e-324", "700", "1000"]
_EXTREME_VALUES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    1e-300,
    -1e-300,
    1e300,
    -1e300,
    5e-324,
    1.7976931348623157e308,
    1e-103,
]
_FUNCTIONS = ["ln", "log", "exp", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt", "abs"]

_atoms = st.one_of(st.sampled_from(["x", "y"]), st.sampled_from(_NUMBERS))
_expressions = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"
        ),
        st.tuples(st.sampled_from(["-", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(_FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, st.sampled_from(["+", "*", "-"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    ),
    max_leaves=8,
)
_values = st.one_of(st.sampled_from(_EXTREME_VALUES), st.floats(allow_nan=False, allow_infinity=False))


@given(
    expression=_expressions,
    x=_values,
    y=_values,
    fmt=st.sampled_from(["text", "json", "latex", "markdown", "html"]),
    kind=st.sampled_from([None, "forward", "tangent", "adjoint", "extended"]),
    wrt=st.sampled_from([[], ["--wrt", "x"], ["--wrt", "y"]]),
    dash=st.booleans(),
)
def test_fuzz_the_command_line_never_raises(
    tmp_path_factory: pytest.TempPathFactory,
    expression: str,
    x: float,
    y: float,
    fmt: str,
    kind: str | None,
    wrt: list[str],
    dash: bool,
) -> None:
    names = [n for n in ("x", "y") if re.search(rf"\b{n}\b", expression)]
    values = {"x": x, "y": y}
    options = ["--format", fmt, *(wrt if wrt and wrt[1] in names else [])]
    if kind is not None:
        options += ["--draw", kind, "-o", str(tmp_path_factory.mktemp("fuzz") / "g.dot"), "--backend", "wasm"]
    positional = [expression, *(f"{n}={values[n]!r}" for n in names)]
    # an expression starting with "-" must come after "--"
    argv = [*options, "--", *positional] if dash or expression.startswith("-") else [*positional, *options]
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    elapsed = time.perf_counter() - start
    lines = err.getvalue().splitlines()
    event(f"exit status {code}")
    assert code in (0, 1, 2), argv
    if code == 0:
        assert [line for line in lines if not line.startswith("scalargrad: wrote the ")] == [], argv
        if fmt == "json" or kind is None:
            assert out.getvalue()
        if fmt == "json":
            strict_json(out.getvalue())
    else:
        assert len(lines) == 1 and lines[0].startswith("scalargrad: error: "), (argv, lines)
        assert "unrecognized arguments" not in lines[0], argv  # "--" works
        assert out.getvalue() == "", argv
    assert elapsed < 5.0, (argv, elapsed)  # the first WebAssembly render compiles Graphviz (~0.5 s)


# --------------------------------------------------------------------------- #
# issue 11: sharing and constants, --version, strict JSON, output checked       #
# before any work, writing never fails silently, drawing never hangs           #
# --------------------------------------------------------------------------- #


def strict_json(text: str) -> object:
    """``json.loads`` that refuses the non-standard ``Infinity``, ``-Infinity`` and ``NaN``."""

    def refuse(token: str) -> object:
        raise AssertionError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_identical_subexpressions_are_one_node(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "g.txt"
    argv = ["(exp(x1)+1)*exp(x1)", "x1=2", "--draw", "forward", "-o", str(target), "--image-format", "plain"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    forward = plain(out).split("Forward mode")[0]
    assert "  v2 = exp(v1) = exp(2) = 7.389" in forward and "v4 = v3*v2" in forward and "v5" not in forward
    layout = target.read_text()
    assert len(re.findall(r"^node ", layout, flags=re.M)) == 4
    assert len(re.findall(r"^edge v2 ", layout, flags=re.M)) == 2  # one exp node, used twice
    code, out, _ = run(capsys, "(exp(x1)+1)*exp(x1)", "x1=2", "--no-share")
    forward = plain(out).split("Forward mode")[0]
    assert code == 0 and forward.count(" = exp(v1) = exp(2) = 7.389") == 2 and "  v5 = " in forward


def test_pi_and_e_are_known_constants(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sin(pi*x) + e", "x=1", "--format", "json")
    assert (code, err) == (0, "")
    data = strict_json(out)
    assert isinstance(data, dict)
    assert data["values"] == {"x": 1.0} and data["value"] == pytest.approx(math.e)
    grads = {row["node"]: row["value"] for row in data["trace"]["adjoint"]["summary"]}
    assert [pytest.approx(-math.pi)] == list(grads.values())


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import scalargrad

    assert run(capsys, "--version") == (0, f"scalargrad {scalargrad.__version__}\n", "")
    assert run(capsys, "x", "x=1", "--version")[:2] == (0, f"scalargrad {scalargrad.__version__}\n")
    done = _subprocess("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"scalargrad {scalargrad.__version__}\n", "")


def test_wrt_names_are_nfkc_normalised_like_the_expressions(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("ｘ1", "x₁", " x1 "):  # fullwidth x, subscript one: both are x1 after NFKC
        code, out, err = run(capsys, "x1*x2", "x1=2", "x2=3", "--wrt", name)
        assert (code, err) == (0, ""), name
        assert "w.r.t. x1" in plain(out) and "w.r.t. x2" not in plain(out)


@pytest.mark.parametrize(
    ("expression", "value", "encoded"),
    [
        ("x*1e308*10", "x=1", "inf"),
        ("0 - x*1e308*10", "x=1", "-inf"),
        ("x*1e308*10 - x*1e308*10", "x=1", "nan"),
        ("sqrt(x)", "x=0", 0.0),  # the derivative is inf
        ("relu(x*1e308*10) * 0", "x=1", "nan"),
    ],
)
def test_json_is_strict_for_non_finite_numbers(
    capsys: pytest.CaptureFixture[str], expression: str, value: str, encoded: object
) -> None:
    code, out, err = run(capsys, expression, value, "--format", "json")
    assert code == 0, err
    data = strict_json(out)
    assert isinstance(data, dict) and data["value"] == encoded
    assert "Infinity" not in out and "NaN" not in out


def test_json_safe_encodes_every_non_finite_number() -> None:
    from scalargrad.cli import json_safe

    data = {"a": [1.0, math.inf, (-math.inf, {"b": math.nan})], "c": "inf", "d": 3, "e": None}
    assert json_safe(data) == {"a": [1.0, "inf", ["-inf", {"b": "nan"}]], "c": "inf", "d": 3, "e": None}
    assert data["a"][1] == math.inf  # a copy: the input is left alone
    deep: object = math.inf
    for _ in range(100_000):  # iterative: no recursion limit
        deep = [deep]
    out = json_safe(deep)
    for _ in range(100_000):
        assert isinstance(out, list)
        out = out[0]
    assert out == "inf"


def test_output_path_problems_are_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import scalargrad.cli

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the output path is checked first")

    monkeypatch.setattr(scalargrad.cli, "parse", no_work)
    fifo = tmp_path / "fifo.svg"
    os.mkfifo(fifo)
    (tmp_path / "dir.svg").mkdir()
    (tmp_path / "link.svg").symlink_to(tmp_path / "nowhere" / "g.svg")
    (tmp_path / "file").write_text("")
    cases = {
        str(fifo): "a FIFO (named pipe), not a regular file",
        str(tmp_path / "dir.svg"): "a directory, not a regular file",
        str(tmp_path / "missing" / "g.svg"): "the directory",
        str(tmp_path / "link.svg"): "a broken symbolic link",
        str(tmp_path / "file" / "g.svg"): "is not a directory",
        "/dev/null": "a character device, not a regular file",
    }
    for path, message in cases.items():
        code, out, err = run(capsys, "x", "x=1", "--draw", "forward", "-o", path)
        assert (code, out) == (2, ""), path
        _assert_one_line_error(err, f"-o {path}: ")
        assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.svg", "fifo.svg", "file", "link.svg"]


def _unwritable_paths(tmp_path: Path) -> list[Path]:
    """Paths that cannot be written, also for root (who passes permission bits)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    candidates = [locked / "g.svg", Path("/proc/sys/kernel/ostype.svg"), Path("/sys/g.svg")]
    found = []
    for path in candidates:
        try:
            path.write_bytes(b"")
        except OSError:
            found.append(path)
        else:
            path.unlink()
    return found


def test_an_unwritable_output_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paths = _unwritable_paths(tmp_path)
    if not paths:
        pytest.skip("no unwritable path on this machine")
    for path in paths:
        code, out, err = run(capsys, "x", "x=1", "--draw", "forward", "-o", str(path))
        assert (code, out) == (2, ""), path
        _assert_one_line_error(err, f"-o {path}: cannot write it:")
        assert not path.exists()


def test_an_existing_output_file_is_kept_until_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "g.dot"
    target.write_text("old")
    code, _, _ = run(capsys, "ln(x)", "x=0", "--draw", "forward", "-o", str(target))
    assert code == 2 and target.read_text() == "old"  # checked, not truncated
    code, _, _ = run(capsys, "ln(x)", "x=1", "--draw", "forward", "-o", str(target))
    assert code == 0 and "digraph" in target.read_text()


def _hostile(argv: list[str], stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """The command line in a real process, with a generous timeout that only guards against hangs."""
    return subprocess.run(
        [sys.executable, "-m", "scalargrad", *argv],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize(
    "argv",
    [
        [NOTES, "x1=2", "x2=5"],
        [NOTES, "x1=2", "x2=5", "--format", "json"],
        [NOTES, "x1=2", "x2=5", "--format", "latex"],
        ["--version"],
        ["--help"],
    ],
)
def test_a_full_disk_is_one_line_and_exit_1(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = _hostile(argv, stdout=full)
    assert done.returncode == 1
    assert done.stderr == "scalargrad: error: cannot write the output: No space left on device\n"


def test_a_closed_pipe_is_quiet() -> None:
    done = subprocess.run(
        f"{sys.executable} -m scalargrad 'x' x=1 --format json | head -c 1 >/dev/null",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.parametrize("backend", ["wasm", "auto"])
def test_a_graph_too_complex_to_lay_out_is_one_line_and_exit_1(tmp_path: Path, backend: str) -> None:
    """x + x + ... + x with 150 terms: within --max-nodes, but minutes of layout (issue 11.11)."""
    target = tmp_path / "g.svg"
    terms = "+".join(["x"] * 150)
    done = _hostile([terms, "x=1", "--draw", "forward", "-o", str(target), "--backend", backend])
    assert done.returncode == 1 and done.stdout == ""
    _assert_one_line_error(done.stderr, "the forward diagram is too complex to lay out")
    assert not target.exists()


def test_a_fifo_output_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "g.svg"
    os.mkfifo(fifo)
    done = _hostile(["x*x", "x=1", "--draw", "forward", "-o", str(fifo)])
    assert done.returncode == 2 and done.stdout == ""
    _assert_one_line_error(done.stderr, "a FIFO (named pipe), not a regular file")


def test_a_render_over_the_time_limit_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "g.svg"
    argv = ["+".join(["x"] * 60), "x=1", "--draw", "forward", "-o", str(target), "--no-trace"]
    code, out, err = run(capsys, *argv, "--backend", "wasm", "--timeout", "0.01")
    assert (code, out) == (1, "")
    _assert_one_line_error(err, "did not finish within 0.01 s")
    assert not target.exists()
    for bad in ("0", "-1", "nan", "inf"):
        code, _, err = run(capsys, *argv, "--timeout", bad)
        assert code == 2
        _assert_one_line_error(err, "--timeout must be a positive number of seconds")


def test_png_and_pdf_without_the_system_graphviz(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for suffix, magic in ((".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")):
        target = tmp_path / f"graph{suffix}"
        argv = [NOTES, "x1=2", "x2=5", "--draw", "adjoint", "-o", str(target), "--backend", "wasm"]
        code, _, err = run(capsys, *argv)
        assert code == 0, err
        assert target.read_bytes().startswith(magic)


def test_captions_and_checkable_digits_by_default(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5")
    assert code == 0 and out.splitlines()[0] == "y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5"
    assert "  v̄₂ = v̄₅·cos(v₂) + v̄₄·v₁ = −1·cos(5) + 1·2 = −0.284 + 2 = 1.716" in out.splitlines()
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--no-caption")
    assert code == 0 and out.splitlines()[0] == "Forward evaluation trace"
    code, out, _ = run(capsys, "tanh(a*x + b)", "x=1", "a=2", "b=0.5")
    assert "  v̄₅ = v̄₆·(1 − v₆*v₆) = 1·(1 − 0.9866*0.9866) = 0.0266" in out.splitlines()
    code, out, _ = run(capsys, "tanh(a*x + b)", "x=1", "a=2", "b=0.5", "--digits", "3")
    assert "  v̄₅ = v̄₆·(1 − v₆*v₆) = 1·(1 − 0.987*0.987) = 0.0266" in out.splitlines()
    code, out, _ = run(capsys, "sigmoid(a*x + b)", "x=2", "a=3", "b=1")
    assert "  v̄₅ = v̄₆·(v₆*sigmoid(−v₅)) = 1·(0.999*sigmoid(−7)) = 0.00091" in out.splitlines()
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--format", "markdown")
    assert out.splitlines()[0] == "y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5"
    pytest.importorskip("graphviz")
    target = tmp_path / "g.dot"
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--draw", "adjoint", "-o", str(target), "--no-trace")
    assert code == 0 and 'label="y = ln(x₁) + x₁*x₂ − sin(x₂) at x₁ = 2, x₂ = 5"' in target.read_text()


def test_code_prints_the_gradient_as_python(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", "--code")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert "def value_and_grad(v1, v2):" in lines  # below any header the compiler writes
    assert "    v3 = log(v1)" in lines and "    v2_bar = v5_bar * cos(v2) + v4_bar * v1" in lines
    assert lines[-1] == "    return v7, [v1_bar, v2_bar]"
    namespace: dict[str, object] = {}
    import math

    exec(out, {"log": math.log, "sin": math.sin, "cos": math.cos}, namespace)  # TEST ONLY: our own output
    value, gradient = namespace["value_and_grad"](2.0, 5.0)  # type: ignore[operator]
    assert value == pytest.approx(11.652071455223084) and gradient == [5.5, pytest.approx(1.7163378145367738)]


def test_the_notes_extended_figure_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Typing the notes' (exp(x1)+1)*exp(x1) gives their 4-node graph and their extended figure."""
    from scalargrad import draw
    from scalargrad.expr import parse
    from scalargrad.graph import count_ops

    y, _ = parse("(exp(x1)+1)*exp(x1)").build({"x1": 1.0})  # what the command line draws
    assert count_ops(y) == {"exp": 1, "add": 1, "mul": 1}
    pytest.importorskip("graphviz")
    golden = Path(__file__).parent / "golden" / "notes_exp_extended.dot"
    assert draw(y, kind="extended").source == golden.read_text(encoding="utf-8")
    target = tmp_path / "extended.svg"
    argv = ["(exp(x1)+1)*exp(x1)", "x1=1", "--draw", "extended", "-o", str(target), "--no-trace"]
    code, _, _ = run(capsys, *argv)
    assert code == 0 and "v̄₂ = v̄₂→₃ + v̄₂→₄" in target.read_text(encoding="utf-8")


def test_steps_frames_and_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", "--steps", "reverse")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 7 and lines[0].startswith("  1. visit v₇: node_to_grad[v₇] = [1], v̄₇ = 1")
    assert "  5. visit v₂: node_to_grad[v₂] = [v̄₂→₅, v̄₂→₄] = [−0.284, 2], v̄₂ = 1.716 (an input)" in lines
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--steps", "tangent", "--wrt", "x2")
    assert code == 0 and out.splitlines()[-1] == "  7. v̇₇ = v̇₆ − v̇₅ = 2 − 0.284 = 1.716"
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--steps", "extend", "--format", "json")
    assert code == 0 and json.loads(out)[0]["mode"] == "extend"
    pytest.importorskip("graphviz")
    frames, page = tmp_path / "frames", tmp_path / "walk.html"
    argv = [NOTES, "x1=2", "x2=5", "--steps", "reverse", "--frames", str(frames), "--html", str(page)]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert sorted(p.name for p in frames.glob("*.svg"))[0] == "reverse_step_1.svg"
    assert len(list(frames.glob("*.svg"))) == 7
    files = len(list(frames.iterdir()))
    formats = ", ".join(sorted({p.suffix[1:] for p in frames.iterdir()}, key=["svg", "png"].index))
    assert f"wrote 7 frames of the reverse steps ({files} files: {formats}) to {frames}" in err
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "sideways"], "argument --steps: invalid choice: 'sideways'"),
        (["--steps", "tangent", "--wrt", "x1", "--wrt", "x2"], "--steps tangent follows one input"),
        (["--frames", "{file}"], "not a directory"),
        (["--frames", "{tmp}/missing/frames"], "does not exist"),
        (["--html", "{tmp}/missing/page.html"], "--html {tmp}/missing/page.html: the directory"),
        (["--html", "{tmp}"], "not a regular file"),
    ],
)
def test_step_options_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    argv = [a.format(tmp=tmp_path, file=file) for a in argv]
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message.format(tmp=tmp_path) in err, err


# --------------------------------------------------------------------------- #
# issue: the command line accepts what it prints, writes a whole LaTeX        #
# document, --html alone is enough, and refuses options it cannot honour      #
# --------------------------------------------------------------------------- #


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert (code, err) == (0, ""), (argv, err)
    data = strict_json(out)
    assert isinstance(data, dict)
    return data


def test_the_printed_notation_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """x₁ is x1, − is -, · and × are *: the caption pasted back gives the same traces."""
    expected = run(capsys, NOTES, "x1=2", "x2=5")
    printed = expected[1].splitlines()[0].removeprefix("y = ").split(" at ")[0]
    assert printed == "ln(x₁) + x₁*x₂ − sin(x₂)"
    assert run(capsys, printed, "x₁=2", "x₂=5") == expected
    assert run(capsys, "ln(x₁) + x₁·x₂ − sin(x₂)", "x1=2", "x2=5") == expected
    assert run(capsys, "ln(x₁) + x₁×x₂ − sin(x₂)", "x2=5", "x₁=2") == expected
    data = _json(capsys, "x₁·x₂ − 1e−3", "x1=2", "x₂=3")
    assert data["values"] == {"x1": 2.0, "x2": 3.0} and data["value"] == 2.0 * 3.0 - 0.001


def test_an_expression_starting_with_the_printed_minus_needs_no_double_dash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "−x + 1", "x=−2")
    assert (code, err) == (0, "") and out.splitlines()[0] == "y = −x + 1 at x = −2"


@pytest.mark.parametrize("argv", [["--help"], ["-h"]])
def test_help_shows_the_printed_notation_and_constant_values(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "x₁ is x1, − is -, · and × are *" in out and "x=pi" in out


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("pi", math.pi),
        ("e", math.e),
        ("-pi", -math.pi),
        ("−pi", -math.pi),
        ("-e", -math.e),
        ("2*pi", 2 * math.pi),
        ("pi/2", math.pi / 2),
        ("−1.5", -1.5),
        ("1e−3", 0.001),
        ("sqrt(2)", math.sqrt(2)),
    ],
)
def test_a_value_may_be_a_constant_expression(
    capsys: pytest.CaptureFixture[str], value: str, number: float
) -> None:
    data = _json(capsys, "sin(x)", f"x={value}")
    assert data["values"] == {"x": number} and data["value"] == math.sin(number)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x", "x=y"], "the value of 'x' is not a number: 'y' (a constant may not use variables (y)"),
        (["x*y", "x=y", "y=2"], "the value of 'x' is not a number: 'y'"),
        (["x", "x=exp(1000)"], "the value of 'x' is not a number: 'exp(1000)' (cannot evaluate"),
        (["x", "x=1/0"], "division by zero"),
        (["x", "x=__import__('os')"], "unknown function '__import__'"),
        (["x", "x=(1).real"], "not allowed: attribute access"),
        (["x", "x=2₁"], "subscript digit '₁' at column 2 is not part of a name"),
        (["x₁ + 3₄", "x1=1"], "subscript digit '₄' at column 7 is not part of a name"),
        (["x₁ * x1", "x1=1", "x₁=2"], "'x1' is given more than once"),
        (["x·y", "x=1"], "no value for 'y'"),
        (["x − ", "x=1"], "invalid syntax"),
    ],
)
def test_printed_notation_and_constant_values_bad_input(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("scalargrad: error: ") and message in err, err


_VALUE_PIECES = ["pi", "e", "x", "2", "0", "1e308", "-", "−", "+", "*", "·", "×", "/", "**", "(", ")"]
_VALUE_PIECES += ["sqrt(", "exp(", "₁", ".", " ", "=", "nan", "inf", "_", "'"]


@given(st.lists(st.sampled_from(_VALUE_PIECES), max_size=12).map("".join))
def test_any_value_text_is_a_number_or_one_error_line(text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["x*2", f"x={text}", "--format", "json"])
    if code == 0:
        value = strict_json(out.getvalue())["values"]["x"]  # type: ignore[index]
        assert isinstance(value, float) and math.isfinite(value), text
    else:
        lines = err.getvalue().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("scalargrad: error: "), (text, lines)


def _caption(out: str) -> tuple[str, list[str]]:
    """The formula and the ``NAME=VALUE`` arguments of a caption ``y = … at x₀ = 1.5, x₁ = −2``."""
    first = out.splitlines()[0]
    assert first.startswith("y = "), first
    formula, _, point = first.removeprefix("y = ").rpartition(" at ")
    return formula, [item.replace(" = ", "=") for item in point.split(", ")]


@settings(max_examples=60, deadline=None)
@given(case=expressions_and_points(1, 3, ops=ALL_OPS, max_depth=3))
def test_the_caption_reads_back_as_the_same_function(case: tuple[GeneratedExpression, list[float]]) -> None:
    """What the command line prints as the caption (subscripts, −, exact numbers, pi) is an
    expression and a point it accepts, for the same function: the same value at the point."""
    expression, point = case
    text = str(expression)
    names = parse(text).names
    values = [f"{name}={point[int(name[1:])]!r}" for name in names]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--", text, *values]) == 0, [text, *values]
    formula, printed_point = _caption(out.getvalue())
    assume(not re.fullmatch(r"v[₀-₉]+", formula))  # over 300 characters, the caption names the node
    event("formula with subscripts" if re.search("[₀-₉]", formula) else "formula without subscripts")
    # The formula is the same function: bit for bit at the exact point ...
    exact = {f"x{i}": p for i, p in enumerate(point) if f"x{i}" in names}
    reread = parse(formula)
    assert set(reread.names) == set(names), (formula, names)
    expected = parse(text).evaluate(exact)
    assert reread.evaluate(exact) == expected or (math.isnan(expected) and math.isnan(reread.evaluate(exact)))
    # ... and the whole caption, formula and point as printed, is accepted by the command line.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--format", "json", "--", formula, *printed_point]) == 0, [formula, *printed_point]
    data = strict_json(out.getvalue())
    assert isinstance(data, dict)
    assert data["value"] == pytest.approx(expected, rel=1e-9, abs=1e-12), (formula, printed_point)


def test_help_explains_the_latex_fragment_and_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "latex-document" in text and "a complete LaTeX document for pdflatex" in text
    assert "display-math blocks to paste into a LaTeX document that loads amsmath" in text
    assert "pdflatex cannot compile it alone" in text


def test_latex_document_is_the_whole_document_and_latex_the_fragment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, fragment, _ = run(capsys, NOTES, "x1=2", "x2=5", "--format", "latex")
    assert code == 0 and "\\documentclass" not in fragment and fragment.startswith("$$")
    code, document, _ = run(capsys, NOTES, "x1=2", "x2=5", "--format", "latex-document")
    assert code == 0
    assert document.startswith("\\documentclass{article}") and document.rstrip().endswith("\\end{document}")
    assert fragment.strip() in document


@pytest.mark.parametrize(
    "argv",
    [
        [NOTES, "x1=2", "x2=5"],
        ["ln(x₁) + x₁·x₂ − sin(x₂)", "x₁=pi", "x₂=-e", "--wrt", "x1", "--digits", "5"],
        ["sigmoid(a*x + b) + sqrt(w_hidden) - atan2(z, 1)", "x=2", "a=3", "b=1", "w_hidden=4", "z=-1.5"],
    ],
)
def test_pdflatex_compiles_the_latex_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    need_program("pdflatex")
    code, out, err = run(capsys, *argv, "--format", "latex-document")
    assert (code, err) == (0, "")
    result = compile_latex(out, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "trace.pdf").stat().st_size > 1000


def test_html_alone_writes_the_page_and_no_trace_prints_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("graphviz")
    page = tmp_path / "page.html"
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", "--html", str(page), "--no-trace")
    assert (code, out) == (0, "")
    assert err == f"scalargrad: wrote the step-through page to {page}\n"
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    page.unlink()
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--html", str(page))  # the traces too
    assert code == 0 and "Reverse mode AD trace" in out and page.exists()
    page.unlink()
    argv = [NOTES, "x1=2", "x2=5", "--html", str(page), "--steps", "tangent", "--wrt", "x2", "--no-trace"]
    code, out, _ = run(capsys, *argv)  # --steps picks the page's mode; nothing printed
    assert (code, out) == (0, "") and page.exists()
    code, out, _ = run(capsys, NOTES, "x1=2", "x2=5", "--html", str(page), "--format", "json")
    assert code == 0 and json.loads(out)["page"] == str(page)


def test_frames_alone_with_no_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("graphviz")
    frames = tmp_path / "frames"
    code, out, err = run(capsys, "x*y", "x=2", "y=3", "--frames", str(frames), "--no-trace")
    assert (code, out) == (0, "") and "frames of the reverse steps" in err
    assert list(frames.glob("*.svg"))


def test_code_honours_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, source, _ = run(capsys, NOTES, "x1=2", "x2=5", "--code")
    assert code == 0 and "def value_and_grad(v1, v2):" in source.splitlines()
    data = _json(capsys, NOTES, "x1=2", "x2=5", "--code")
    assert data["source"] == source
    assert data["expression"] == NOTES and data["values"] == {"x1": 2.0, "x2": 5.0}
    assert data["value"] == 11.652071455223084
    assert data["gradient"] == {"x1": 5.5, "x2": 1.7163378145367738}
    data = _json(capsys, NOTES, "x1=2", "x2=5", "--code", "--wrt", "x2")
    assert data["gradient"] == {"x2": 1.7163378145367738}
    code, fenced, _ = run(capsys, NOTES, "x1=2", "x2=5", "--code", "--format", "markdown")
    assert code == 0 and fenced == f"```python\n{source.rstrip()}\n```\n"
    code, same, _ = run(capsys, NOTES, "x1=2", "x2=5", "--code", "--format", "text")
    assert (code, same) == (0, source)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--code", "--format", "latex"],
            "--code prints Python code in text, markdown or json, not --format latex",
        ),
        (["--code", "--format", "latex-document"], "not --format latex-document"),
        (["--code", "--format", "html"], "not --format html"),
        (["--code", "--steps", "reverse"], "--code and --steps both replace the traces"),
        (["--steps", "reverse", "--format", "latex"], "--steps prints in text or json, not --format latex"),
        (["--steps", "reverse", "--format", "markdown"], "not --format markdown"),
        (
            ["--code", "--no-trace", "--html", "{tmp}/p.html"],
            "--code prints the code and --no-trace prints nothing",
        ),
        (
            ["--draw", "adjoint", "-o", "{tmp}/g.svg", "--no-trace", "--format", "json"],
            "--format json has nothing to format: --no-trace prints nothing",
        ),
        (
            ["--draw", "tangent", "--wrt", "x1", "--wrt", "x2", "-o", "{tmp}/g.svg"],
            "--draw tangent draws the tangents of one input, not of 2: give one --wrt per diagram",
        ),
        (
            ["--draw", "extended", "--wrt", "x1", "--wrt", "x2", "-o", "{tmp}/g.svg"],
            "--draw extended differentiates w.r.t. one input or, without --wrt, every input, not 2",
        ),
        (
            ["--html", "{tmp}/p.html", "--wrt", "x1", "--wrt", "x2"],
            "--html shows the tangents of one input, not of 2: give at most one --wrt",
        ),
    ],
)
def test_options_that_cannot_all_be_honoured_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_several_wrt_still_select_the_tangent_tables_with_other_diagrams(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Only the diagrams of one input's tangents are refused; the tables take any number."""
    pytest.importorskip("graphviz")
    target = tmp_path / "g.dot"
    argv = [NOTES, "x1=2", "x2=5", "--wrt", "x2", "--wrt", "x1", "--draw", "adjoint", "-o", str(target)]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and target.exists()
    assert plain(out).index("w.r.t. x2") < plain(out).index("w.r.t. x1")


# --------------------------------------------------------------------------- bounds and locales (issue 21)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timeout", "1e10", "--timeout must be a positive number of seconds, at most 86400, got 1e+10"),
        ("--max-nodes", "0", "--max-nodes must be positive, got 0"),
        ("--max-frames", "0", "--max-frames must be positive, got 0"),
        ("--max-layout-cost", "-5", "--max-layout-cost must be positive, got -5"),
    ],
)
def test_limits_are_range_checked(option: str, value: str, message: str) -> None:
    """``--timeout 1e10`` used to overflow the render timer's thread (a traceback, exit 0)."""
    done = _subprocess("x*x", "x=1", "--draw", "forward", "-o", os.devnull + ".svg", option, value)
    assert done.returncode == 2 and done.stdout == ""
    _assert_one_line_error(done.stderr, message)


@pytest.mark.parametrize("option", ["--frames", "--html"])
def test_frames_and_page_honour_max_nodes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str
) -> None:
    target = tmp_path / ("frames" if option == "--frames" else "walk.html")
    code, out, err = run(capsys, NOTES, "x1=2", "x2=5", "--no-trace", option, str(target), "--max-nodes", "5")
    assert (code, out) == (2, "")
    _assert_one_line_error(err, f"{option}: the graph has 7 nodes, more than --max-nodes 5")
    assert not target.exists()


def test_frames_are_capped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A frame restyles the whole diagram: 999 minus signs once wrote 162 of 1000 frames in 600 s."""
    code, out, err = run(capsys, "--no-trace", "--frames", str(tmp_path / "f"), "--", "-" * 160 + "x", "x=1")
    assert (code, out) == (2, "")
    _assert_one_line_error(err, "the graph has 161 nodes, more than --max-nodes 150")
    argv = [NOTES, "x1=2", "x2=5", "--no-trace", "--frames", str(tmp_path / "f"), "--max-frames", "6"]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    _assert_one_line_error(err, "7 steps, more than --max-frames 6 frames; pass a larger --max-frames")
    assert not (tmp_path / "f").exists()


def test_a_too_complex_diagram_names_the_command_lines_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [NOTES, "x1=2", "x2=5", "--no-trace", "--draw", "forward", "-o", str(tmp_path / "never.svg")]
    code, out, err = run(capsys, *argv, "--max-layout-cost", "3")
    assert (code, out) == (1, "")
    _assert_one_line_error(err, "the limit is 3); ")
    assert "--max-layout-cost 17 lays it out anyway" in err and "max_layout_cost=None" not in err
    assert not (tmp_path / "never.svg").exists()


def test_an_output_path_with_a_newline_is_printed_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "a\nb.dot"
    code, _, err = run(capsys, "x*x", "x=1", "--no-trace", "--draw", "forward", "-o", str(target))
    assert code == 0 and target.exists()
    assert err == f"scalargrad: wrote the forward diagram to {str(target)!r}\n"


_C_LOCALE = {
    "LC_ALL": "C",
    "LANG": "C",
    "PYTHONUTF8": "0",
    "PYTHONIOENCODING": "",
    "PYTHONCOERCECLOCALE": "0",
}


def test_unicode_arguments_work_in_the_c_locale() -> None:
    """Without UTF-8 mode Python decodes argv as ASCII with surrogateescape: α came as two surrogates."""
    done = subprocess.run(
        [sys.executable, "-m", "scalargrad", "α + 1", "α=2"],
        capture_output=True,
        timeout=60,
        check=False,
        env=dict(os.environ, **_C_LOCALE),
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    out = done.stdout.decode("ascii")  # the C locale's stdout: non-ASCII printed as escapes
    assert "3" in out and "\\u03b1" in out


def test_an_argument_that_is_not_utf8_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scalargrad", b"x\xff + 1", "x=2"],
        capture_output=True,
        timeout=60,
        check=False,
        env=dict(os.environ, **_C_LOCALE),
    )
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.count(b"\n") == 1 and b"is not valid UTF-8" in done.stderr


@given(
    st.sampled_from(["*", "·", "⋅", "×"]),
    st.sampled_from(["*", "·", "⋅", "×"]),
    st.sampled_from(["expression", "value"]),
)
def test_two_product_signs_in_a_row_are_one_error_line(first: str, second: str, where: str) -> None:
    """``x××y`` (or ``2·×3`` as a value) was read as ``x**y``: one error line now; ``**`` stays a power."""
    pair = first + second
    argv = [f"x{pair}y", "x=2", "y=3"] if where == "expression" else ["x*y", f"x=2{pair}3", "y=3"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--format", "json"])
    if pair == "**":  # x**y = 8, or x = 2**3 = 8 and x*y = 24
        data = strict_json(out.getvalue())
        assert code == 0 and isinstance(data, dict)
        assert data["value"] == (8.0 if where == "expression" else 24.0)
        return
    lines = err.getvalue().splitlines()
    assert code == 2 and out.getvalue() == "" and len(lines) == 1, (argv, lines)
    assert f"two product signs in a row at column 2 ('{pair}'): write one, or ** for a power" in lines[0]
