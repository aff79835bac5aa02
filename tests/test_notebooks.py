"""Every notebook in notebooks/ executes without error (nbclient, a python3 kernel on this interpreter).

Skipped cleanly when the ``notebook`` extra (nbclient, nbformat, ipykernel) is not installed,
except under CI (the environment variable ``CI`` set), which installs every extra: there a
missing package fails. The notebooks are committed without outputs; this runs them headless,
cell by cell, and checks that notebooks/make_notebooks.py regenerates them exactly.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell

# Packages beyond the notebook extra that a notebook imports.
NEEDS = {
    "01_differentiation_methods.ipynb": ("graphviz", "ipywidgets"),
    "02_reverse_mode_by_graph_extension.ipynb": ("graphviz",),
    "03_training_an_mlp.ipynb": ("sklearn", "matplotlib"),
    "04_tensors_from_scalars.ipynb": ("numpy",),
    "05_property_based_testing.ipynb": ("hypothesis",),
    "06_the_gradient_as_code.ipynb": ("numpy", "matplotlib"),
    "07_watch_reverse_mode.ipynb": ("graphviz", "ipywidgets"),
}


def need(module: str) -> ModuleType:
    """``module``, imported; a missing one skips the test, or fails it under CI (``CI`` set)."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_notebooks_are_committed_without_outputs() -> None:
    assert PATHS, "no notebooks found"
    for path in PATHS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                    f"{path.name} has outputs; strip them (python notebooks/make_notebooks.py)"
                )


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec "python3" that runs this interpreter, whatever other kernels are installed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_executes(path: Path, kernel_dir: Path) -> None:
    nbclient = need("nbclient")
    nbformat = need("nbformat")
    need("ipykernel")
    for module in NEEDS.get(path.name, ()):
        need(module)
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(path, as_version=4)
    km = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    )
    client = nbclient.NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


def test_notebooks_are_generated_by_make_notebooks() -> None:
    """Each committed .ipynb is exactly what make_notebooks.py writes: edit the generator, not the file."""
    nbformat = need("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    make_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_notebooks)
    assert sorted(f"{name}.ipynb" for name in make_notebooks.NOTEBOOKS) == [p.name for p in PATHS]
    for name in make_notebooks.NOTEBOOKS:
        expected = nbformat.writes(make_notebooks.make(name))
        committed = (NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")
        assert committed.rstrip("\n") == expected.rstrip("\n"), (
            f"{name}.ipynb differs from make_notebooks.py; run python notebooks/make_notebooks.py"
        )


# the distribution that provides each module the notebooks import
DISTRIBUTIONS = {"sklearn": "scikit-learn", "IPython": "ipykernel"}


def test_the_notebook_and_viz_extras_cover_every_notebook() -> None:
    """README: ``pip install -e ".[notebook,viz]"`` is enough to open (JupyterLab) and run the notebooks."""
    import configparser

    config = configparser.ConfigParser()
    config.read(NOTEBOOKS.parent / "setup.cfg", encoding="utf-8")
    extras = config["options.extras_require"]
    names = set()
    for extra in ("notebook", "viz"):
        for line in extras[extra].split():
            names.add(line.split(">")[0].split("=")[0].split("<")[0].strip().lower())
    needed = {"jupyterlab", "nbclient", "nbformat", "ipykernel"} | {m for ms in NEEDS.values() for m in ms}
    missing = sorted(m for m in needed if DISTRIBUTIONS.get(m, m).lower() not in names)
    assert not missing, f"the notebook/viz extras lack {missing}"
