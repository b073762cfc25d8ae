"""The shared widgets without a browser: what nbclient, CI and a plain console get.

Each widget probes or runs real things (the session's stack, nbgrader's Validator, a second
stack started from the widget) - no browser needed, so these are not marked ``browser``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURE_LAB = HERE / "fixtures" / "lab00_browser"


def wait_until(predicate, timeout: float = 60.0) -> bool:
    """Poll until ``predicate()`` holds (a liveness wait, not a speed check)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_widgets_import_lazily():
    """Importing the package must not import every widget module (some belong to others and
    may be half-written); attributes load their module on first use."""
    code = ("import sys, edalab.widgets as w; assert not [m for m in sys.modules if m.startswith("
            "'edalab.widgets.')], sys.modules; w.TraceView; assert 'edalab.widgets.trace_view' in sys.modules;"
            " assert 'edalab.widgets.queue_monitor' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stack_status_reports_the_running_stack(stack):
    from edalab.widgets import StackStatus

    status = StackStatus(interval=0.1)
    try:
        assert status.all_up, status.rows
        assert {r["service"] for r in status.rows} == {"aws", "kafka"}
        assert 'data-all-up="true"' in status.table.value
        assert status.start_button.disabled  # nothing to start
        first = status.table.value
        assert wait_until(lambda: status.table.value != first)  # live: it keeps re-probing
    finally:
        status.stop()
    assert not status.poller.running
    after = status.table.value
    threading.Event().wait(0.5)
    assert status.table.value == after  # stopped means stopped


def test_stack_status_names_the_fix_and_starts_the_stack(stack, tmp_path, monkeypatch):
    from edalab.stack import Stack, free_port
    from edalab.widgets import StackStatus

    monkeypatch.setenv("EDALAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EDALAB_AWS_PORT", str(free_port()))
    monkeypatch.setenv("EDALAB_KAFKA_PORT", str(free_port()))
    status = StackStatus(live=False)
    try:
        assert not status.all_up
        assert all("edalab up" in r["fix"] for r in status.rows), status.rows
        assert "DOWN" in repr(status) and not status.start_button.disabled
        status.start_stack(wait=True)
        assert status.all_up, status.messages.value
        assert status.progress.value == 2 and "ready on" in status.messages.value
    finally:
        status.stop()
        Stack().down(say=lambda *_: None)


def test_stack_status_shows_a_bad_setting_instead_of_a_trace(monkeypatch):
    from edalab.widgets import StackStatus

    monkeypatch.setenv("EDALAB_TARGET", "mainframe")
    status = StackStatus(live=False)
    assert status.rows == [] and "not a target" in status.messages.value


@pytest.fixture
def labs(tmp_path):
    root = tmp_path / "labs"
    shutil.copytree(FIXTURE_LAB, root / "lab00_browser")
    return root


def answer(nb_path: Path, task1: str, task2: str | None = None) -> None:
    nb = json.loads(nb_path.read_text())
    solutions = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    solutions[0]["source"] = task1
    if task2 is not None:
        solutions[1]["source"] = task2
    nb_path.write_text(json.dumps(nb))


def test_progress_moves_from_not_started_to_passing(stack, labs):
    from edalab.widgets.progress import IN_PROGRESS, MISSING, NOT_STARTED, PASSING, LabProgress

    progress = LabProgress(labs=["lab00_browser", "lab99_absent"], root=labs, live=False)
    assert [r["state"] for r in progress.rows] == [NOT_STARTED, MISSING]

    nb = labs / "lab00_browser" / "lab00_browser.ipynb"
    answer(nb, "def is_event(name):\n    return True\n")
    assert progress.refresh()[0]["state"] == IN_PROGRESS
    progress.check(wait=True)  # the visible checks fail: still in progress, and says why
    row = progress.rows[0]
    assert row["state"] == IN_PROGRESS and "failing" in row["detail"], row

    answer(nb, 'def is_event(name):\n    return name.endswith("ed")\n',
           'import edalab\nsqs = edalab.client("sqs")\n'
           'queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]\n')
    assert progress.refresh()[0]["detail"] == "changed since last check"
    progress.check(wait=True)
    assert progress.rows[0]["state"] == PASSING, progress.rows[0]
    assert 'data-state="passing"' in progress.table.value
    assert progress.status.value == "done"
    # The verdict is cached by content: a new panel knows without re-running anything.
    assert LabProgress(labs=["lab00_browser"], root=labs, live=False).rows[0]["state"] == PASSING


def test_trace_view_groups_by_correlation_and_follows_a_feed():
    from edalab.widgets import TraceView

    trace = TraceView()
    trace.consumed("payments", "m1")  # a consumer's record may arrive first
    trace.published("orders", "OrderPlaced", message_id="m1", correlation_id="order-1")
    trace.published("payments", "PaymentTaken", message_id="m2", correlation_id="order-1",
                    causation_id="m1")
    trace.published("orders", "OrderPlaced", message_id="m3", correlation_id="order-2")
    groups = trace.by_correlation()
    assert [m.message_id for m in groups["order-1"]] == ["m1", "m2"]
    assert groups["order-1"][0].publisher == "orders" and groups["order-1"][0].consumers == ["payments"]
    assert "orders->>payments: OrderPlaced" in trace.to_mermaid("order-1")
    assert "order-2" not in trace.to_mermaid("order-1")

    feed = [[{"kind": "published", "service": "shipping", "message_type": "OrderShipped",
              "message_id": "m4", "correlation_id": "order-1"}]]
    trace.follow(lambda: feed.pop() if feed else [], interval=0.05)
    try:
        assert wait_until(lambda: "m4" in trace.messages)
    finally:
        trace.stop()
    assert 'data-messages="4"' in trace.table.value
    with pytest.raises(ValueError, match="publishing service"):
        trace.published("", "OrderPlaced")
    with pytest.raises(ValueError, match="'published' or 'consumed'"):
        trace.record("sent", "orders")


def test_labs_publish_to_the_exchange_once_and_again_on_change(labs, tmp_path):
    from edalab.jupyter import publish_labs

    exchange = tmp_path / "exchange"
    assert publish_labs(labs, exchange, "edalab") == ["lab00_browser"]
    released = exchange / "edalab" / "outbound" / "lab00_browser" / "lab00_browser.ipynb"
    assert released.read_bytes() == (labs / "lab00_browser" / "lab00_browser.ipynb").read_bytes()
    assert publish_labs(labs, exchange, "edalab") == []
    answer(labs / "lab00_browser" / "lab00_browser.ipynb", "x = 1\n")
    assert publish_labs(labs, exchange, "edalab") == ["lab00_browser"]


@pytest.mark.parametrize("notebook", [HERE / "fixtures" / "widget-walkthrough.ipynb",
                                      HERE.parents[1] / "notebooks" / "00-start-here.ipynb"],
                         ids=lambda p: p.name)
def test_widget_notebooks_execute_headless(stack, notebook):
    """nbclient (CI, nbgrader) runs the widget cells with no frontend attached."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    views = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the widgets were not displayed"


def test_stack_status_probes_a_compose_target(stack, monkeypatch):
    """With EDALAB_TARGET=compose the panel probes the endpoints (here: the test stack's) and
    offers no start button, since `docker compose` starts that stack."""
    from edalab.widgets import StackStatus

    monkeypatch.setenv("EDALAB_TARGET", "compose")
    status = StackStatus(live=False)
    assert status.all_up, status.rows
    assert status.start_button.disabled and "compose" in status.table.value
