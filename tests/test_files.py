"""Writing files (issue 21): atomically, never blocking, never to a FIFO, device or directory.

Every writer of the library and the command line is run in a subprocess under a
file-size limit (``RLIMIT_FSIZE``, with SIGXFSZ ignored, so a write past it fails
with EFBIG as on a full disk): the file it would have replaced must survive byte
for byte, and no temporary file may remain. Each writer is also given a FIFO,
which must be refused at once (a subprocess with a timeout, so a regression
fails instead of hanging the suite).
"""

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scalargrad.files import UnwritablePathError, check_writable, shown_path, write_atomic

ORIGINAL = b"the original file\n"
LIMIT = 1000
"""Bytes a process under the file-size limit may write to one file: less than any picture or page."""
NOTES = "ln(x1) + x1*x2 - sin(x2)"
_SETUP = textwrap.dedent(
    """\
    from scalargrad import Value, steps
    from scalargrad.viz import draw, write_animation, write_frames, write_walkthrough
    x1, x2 = Value(2.0, label="x1"), Value(5.0, label="x2")
    y = x1.log() + x1 * x2 - x2.sin()
    """
)


_LIMITED = textwrap.dedent(
    f"""\
    import resource, signal
    from scalargrad.viz import _render
    _render.pipe("digraph {{ a -> b }}", "png", "wasm")  # the WebAssembly Graphviz needs files to start
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
    """
)
"""Run first in a child under the file-size limit: Graphviz started, then the limit set."""


def _python(code: str, *, limited: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-c", (_LIMITED if limited else "") + code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _cli(*argv: str, limited: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return _python(
        f"import sys\nfrom scalargrad.cli import main\nsys.exit(main({list(argv)!r}))",
        limited=limited,
        timeout=timeout,
    )


def _unchanged(path: Path) -> None:
    assert path.read_bytes() == ORIGINAL
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "a temporary file was left behind"


# --------------------------------------------------------------------------- the helper


def test_write_atomic_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    assert write_atomic(target, "α\n") == target
    assert target.read_text(encoding="utf-8") == "α\n"
    target.chmod(0o640)
    write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_write_atomic_follows_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_bytes(ORIGINAL)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_write_atomic_under_a_file_size_limit_keeps_the_original(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(ORIGINAL)
    code = f"from scalargrad.files import write_atomic\nwrite_atomic({str(target)!r}, b'x' * {10 * LIMIT})"
    done = _python(code, limited=True)
    assert done.returncode != 0 and "[Errno 27] File too large" in done.stderr
    _unchanged(target)


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_check_writable_refuses_what_is_not_a_file(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        path = tmp_path / "pipe.svg"
        os.mkfifo(path)
        expected = "a FIFO (named pipe), not a regular file"
    elif kind == "directory":
        path = tmp_path / "dir.svg"
        path.mkdir()
        expected = "a directory, not a regular file"
    else:
        path = Path("/dev/null")
        expected = "a character device, not a regular file"
    with pytest.raises(UnwritablePathError, match=re.escape(expected)) as info:
        check_writable(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, OSError)
    with pytest.raises(UnwritablePathError):
        write_atomic(path, b"data")


def test_check_writable_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(UnwritablePathError, match="does not exist"):
        check_writable(tmp_path / "missing" / "a.svg")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UnwritablePathError, match="not a directory"):
        check_writable(tmp_path / "file" / "a.svg")


def test_check_writable_refuses_a_read_only_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename would replace a read-only file that ``open(path, "w")`` refuses. (os.access is
    patched: root, who runs CI here, may write anything.)"""
    target = tmp_path / "read-only.svg"
    target.write_bytes(ORIGINAL)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(UnwritablePathError, match="cannot write it: permission denied"):
        write_atomic(target, b"new")
    _unchanged(target)


def test_shown_path_escapes_control_characters_only() -> None:
    assert shown_path("out/graph α.svg") == "out/graph α.svg"
    assert shown_path("a\nb.svg") == "'a\\nb.svg'"


# --------------------------------------------------------------------------- the library's writers

_API_WRITES = {
    "render": "draw(y).render({path!r}, backend='wasm')",
    "write_walkthrough": "write_walkthrough(y, {path!r})",
    "write_animation": "write_animation(steps(y), {path!r})",
}


@pytest.mark.parametrize("writer", list(_API_WRITES))
def test_api_writers_are_atomic(tmp_path: Path, writer: str) -> None:
    target = tmp_path / ("graph.png" if writer == "write_animation" else "graph.svg")
    target.write_bytes(ORIGINAL)
    done = _python(_SETUP + _API_WRITES[writer].format(path=str(target)), limited=True)
    assert done.returncode != 0 and "[Errno 27] File too large" in done.stderr, done.stderr
    _unchanged(target)


def test_write_frames_is_atomic(tmp_path: Path) -> None:
    frame = tmp_path / "reverse_step_1.svg"
    frame.write_bytes(ORIGINAL)
    done = _python(
        _SETUP + f"write_frames(steps(y), {str(tmp_path)!r}, ['svg'], backend='wasm')", limited=True
    )
    assert done.returncode != 0 and "[Errno 27] File too large" in done.stderr, done.stderr
    _unchanged(frame)


@pytest.mark.parametrize("writer", list(_API_WRITES))
def test_api_writers_refuse_a_fifo(tmp_path: Path, writer: str) -> None:
    target = tmp_path / ("graph.png" if writer == "write_animation" else "graph.svg")
    os.mkfifo(target)
    code = _SETUP + "from scalargrad.files import UnwritablePathError\ntry:\n    "
    code += _API_WRITES[writer].format(path=str(target))
    code += "\nexcept UnwritablePathError as e:\n    print(e)\n"
    done = _python(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{target}: a FIFO (named pipe), not a regular file\n"


def test_write_frames_refuses_a_fifo_among_the_frames(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "reverse_step_3.svg")
    code = _SETUP + "from scalargrad.files import UnwritablePathError\ntry:\n    "
    code += f"write_frames(steps(y), {str(tmp_path)!r}, ['svg'], backend='wasm')"
    code += "\nexcept UnwritablePathError as e:\n    print(e)\n"
    done = _python(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'reverse_step_3.svg'}: a FIFO (named pipe), not a regular file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reverse_step_3.svg"]  # checked before any work


# --------------------------------------------------------------------------- the command line's writers


@pytest.mark.parametrize("option", ["-o", "--html"])
def test_cli_outputs_are_atomic(tmp_path: Path, option: str) -> None:
    target = tmp_path / "out.svg"
    target.write_bytes(ORIGINAL)
    argv = (
        ["--draw", "forward", "-o", str(target), "--backend", "wasm"]
        if option == "-o"
        else ["--html", str(target)]
    )
    done = _cli(NOTES, "x1=2", "x2=5", "--no-trace", *argv, limited=True)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "[Errno 27] File too large" in done.stderr
    _unchanged(target)


def test_cli_frames_are_atomic(tmp_path: Path) -> None:
    frame = tmp_path / "reverse_step_1.svg"
    frame.write_bytes(ORIGINAL)
    done = _cli(
        NOTES, "x1=2", "x2=5", "--no-trace", "--frames", str(tmp_path), "--backend", "wasm", limited=True
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "[Errno 27] File too large" in done.stderr
    _unchanged(frame)


@pytest.mark.parametrize("option", ["-o", "--html", "--frames"])
def test_cli_refuses_a_fifo(tmp_path: Path, option: str) -> None:
    if option == "--frames":
        fifo = tmp_path / "reverse_step_2.svg"
        argv = ["--frames", str(tmp_path)]
    else:
        fifo = tmp_path / "out.svg"
        argv = ["--draw", "forward", "-o", str(fifo)] if option == "-o" else ["--html", str(fifo)]
    os.mkfifo(fifo)
    done = _cli(NOTES, "x1=2", "x2=5", "--no-trace", "--backend", "wasm", *argv, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert str(fifo) in done.stderr and "a FIFO (named pipe), not a regular file" in done.stderr
