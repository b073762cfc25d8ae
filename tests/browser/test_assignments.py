"""The nbgrader Assignments tab for a self-paced learner: labs already in labs/ show as
downloaded, a lab released to the course's exchange can be fetched into labs/."""

import pytest

from .jupyterlab import run

pytestmark = pytest.mark.browser


def test_assignment_list_lists_and_fetches_labs(page, jupyter, shot):
    page.goto(f"{jupyter['url']}/lab?token={jupyter['token']}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
    run(page, "nbgrader:open-assignment-list")
    released = page.locator("#released_assignments_list")
    downloaded = page.locator("#fetched_assignments_list")
    mine = downloaded.locator(".assignment-notebooks-link", has_text="lab00_browser")
    mine.wait_for()
    released.get_by_text("lab00_fetch", exact=True).wait_for()
    mine.click()  # unfolds the lab: its notebook, with a Validate button
    page.locator("#nbgrader-edalab-lab00_browser").get_by_text("lab00_browser", exact=True).wait_for()
    shot(page, "1-listed")

    released.locator(".list_item", has_text="lab00_fetch").get_by_role("button", name="Fetch").click()
    downloaded.locator(".assignment-notebooks-link", has_text="lab00_fetch").wait_for()
    assert (jupyter["course"] / "labs" / "lab00_fetch" / "lab00_fetch.ipynb").is_file()
    assert released.get_by_text("lab00_fetch", exact=True).count() == 0
    shot(page, "2-fetched")
