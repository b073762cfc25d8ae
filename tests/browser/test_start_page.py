"""The start page as a learner sees it: the course map diagram and a live stack panel that
reports both services of the (test) stack up."""

import pytest

from .jupyterlab import mermaid_svgs, open_notebook, run_all_cells

pytestmark = pytest.mark.browser


def test_start_page_shows_stack_up_and_course_map(page, jupyter, shot):
    open_notebook(page, jupyter, "notebooks/00-start-here.ipynb")
    # The course map is mermaid in markdown: JupyterLab renders it to SVG without running code.
    svgs = mermaid_svgs(page)
    assert any("<svg" in svg and "08 MSK / Kafka" in svg for svg in svgs), svgs[:1]
    shot(page, "1-opened")

    run_all_cells(page)
    panel = page.locator(".edalab-stack-status")
    panel.wait_for(state="visible")
    rows = panel.locator("tr.edalab-service")
    page.wait_for_function("() => document.querySelectorAll("
                           "'.edalab-stack-status tr.edalab-service[data-state=up]').length === 2")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.service)")) == ["aws", "kafka"]
    assert panel.get_attribute("data-all-up") == "true"
    assert "All services are up" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "2-stack-up")

    progress = page.locator(".edalab-progress")
    progress.scroll_into_view_if_needed()
    assert progress.locator("tr.edalab-lab").count() == 11
    # Nobody has answered anything in this fresh copy: the check has nothing to run.
    page.get_by_role("button", name="Check my labs").click()
    page.locator(".edalab-progress-widget").get_by_text("nothing new to check").wait_for()
    assert progress.locator("tr.edalab-lab[data-state='passing']").count() == 0
    shot(page, "3-progress")
