"""Walkthrough notebooks in the browser: mermaid diagrams render to SVG, widgets render and
change when the kernel (or the learner) changes them."""

from pathlib import Path

import pytest

from .jupyterlab import CURRENT, cells, error_outputs, mermaid_svgs, open_notebook, run_all_cells

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
# A concept notebook (no AWS needed) with a diagram and the event-stream stepper widget.
REAL_WALKTHROUGH = "notebooks/02-event-driven-architecture.ipynb"


def test_trace_view_renders_and_updates_live(page, jupyter, shot):
    open_notebook(page, jupyter, "notebooks/widget-walkthrough.ipynb")
    svgs = mermaid_svgs(page)
    assert any("<svg" in s and "payments" in s for s in svgs)
    run_all_cells(page)
    trace = page.locator(".edalab-trace")
    trace.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('.edalab-trace').dataset.messages === '3'")
    assert "OrderPlaced" in trace.inner_text() and "order-42" in trace.inner_text()
    shot(page, "1-three-messages")

    # The kernel changes the widget after the cells ran: the page must follow.
    page.evaluate(f"""() => {CURRENT}.sessionContext.session.kernel.requestExecute({{code:
        'trace.published("shipping", "OrderShipped", correlation_id="order-42")'}}).done""")
    page.wait_for_function("() => document.querySelector('.edalab-trace').dataset.messages === '4'")
    assert "OrderShipped" in trace.inner_text()
    assert error_outputs(page) == []
    shot(page, "2-updated")


@pytest.mark.skipif(not (ROOT / REAL_WALKTHROUGH).is_file(), reason=f"{REAL_WALKTHROUGH} not written yet")
def test_real_walkthrough_runs_with_diagram_and_widget(page, jupyter, shot):
    open_notebook(page, jupyter, REAL_WALKTHROUGH)
    assert any("<svg" in s for s in mermaid_svgs(page))
    run_all_cells(page, timeout=300_000)
    assert error_outputs(page) == []
    outputs = cells(page).locator(".jp-OutputArea-output")
    widget = outputs.locator(".jupyter-widgets").first
    widget.wait_for(state="visible")
    widget.scroll_into_view_if_needed()
    shot(page, "1-ran")
    slider = outputs.locator(".widget-slider")
    if slider.count():
        # Move the first slider back to its start, as a learner would, and see its view change.
        box = slider.first.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
        before = box.inner_text()
        slider.first.locator(".noUi-handle").first.focus()
        page.keyboard.press("Home")
        page.wait_for_function("([el, text]) => el.innerText !== text",
                               arg=[box.element_handle(), before])
        shot(page, "2-moved")
