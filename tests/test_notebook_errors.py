"""In a real Jupyter kernel, a stack that is down is one clear error naming the fix."""

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from edalab.stack import free_port


def test_stack_down_in_a_notebook_is_one_line_naming_the_fix(monkeypatch):
    monkeypatch.setenv("EDALAB_AWS_PORT", str(free_port()))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import edalab\nsqs = edalab.client('sqs')"),
                nbformat.v4.new_code_cell("print('Run All must have stopped before this')")]
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    with pytest.raises(CellExecutionError):
        client.execute()
    (error,) = nb.cells[0].outputs
    assert error.output_type == "error" and error.ename == "StackNotRunning"
    assert error.traceback == [f"StackNotRunning: {error.evalue}"], "one line, no stack trace"
    assert "edalab up" in error.evalue
    assert not nb.cells[1].outputs
