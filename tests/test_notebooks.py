"""Every walkthrough notebook runs top to bottom on a clean kernel against the embedded stack
(d2l-style: a failing notebook fails the build), and is committed clean: no outputs, cell ids."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
LABS = sorted((Path(__file__).resolve().parent.parent / "labs").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS + LABS, ids=lambda p: p.name)
def test_committed_clean_with_cell_ids(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), "cell ids need nbformat 4.5"
    for cell in nb.cells:
        assert cell.get("id"), f"{path.name}: a cell has no id"
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: cell {cell.id} is committed with outputs; clear them")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(stack, path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        # Keep the executed copy for a human to read when something fails.
        nbformat.write(nb, tmp_path / path.name)
