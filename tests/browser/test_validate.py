"""A learner's round trip in a lab: type an answer, press Validate, read the verdict.

Labs are scratch copies of ``labs/``; nbgrader's Validate runs them in a fresh kernel of the
server, which must reach the test stack. Two labs: the browser fixture (two tasks, one on the
lab stack; its answers are fixed here) and the first real lab of the course, answered with
the solutions from ``graders/source``.
"""

import json
from pathlib import Path

import pytest

from .jupyterlab import cell_index, open_notebook, save, type_into_cell

ROOT = Path(__file__).resolve().parents[2]
REAL_LABS = ("lab01_monolith", "lab02_events_commands", "lab03_event_sourcing", "lab04_cqrs")
REAL_LAB = next((lab for lab in REAL_LABS if (ROOT / "labs" / lab / f"{lab}.ipynb").is_file()
                 and (ROOT / "graders" / "source" / lab / f"{lab}.ipynb").is_file()), None)

pytestmark = pytest.mark.browser

LAB = "labs/lab00_browser/lab00_browser.ipynb"
GOOD_TASK1 = 'def is_event(name):\n    return name.endswith(("ed", "en"))\n'
BAD_TASK1 = "def is_event(name):\n    return True\n"
TASK2 = ('import edalab\nsqs = edalab.client("sqs")\n'
         'queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]\n')


def validate(page) -> str:
    """Press the toolbar's Validate button; return the result dialog's text (and close it)."""
    page.get_by_role("button", name="Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible", timeout=180_000)
    text = dialog.inner_text()
    return text


def close_dialog(page) -> None:
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def test_validate_reports_success_then_failure(page, jupyter, shot):
    open_notebook(page, jupyter, LAB)
    type_into_cell(page, 1, GOOD_TASK1)
    type_into_cell(page, 4, TASK2)
    save(page)
    shot(page, "1-answered")
    text = validate(page)
    shot(page, "2-success")
    assert "Success! Your notebook passes all the tests." in text, text
    close_dialog(page)

    type_into_cell(page, 1, BAD_TASK1)
    save(page)
    text = validate(page)
    shot(page, "3-failure")
    assert "The following cell failed" in text, text
    assert "ReserveStock asks for something: it is a command" in text, text
    close_dialog(page)


def solutions(lab: str) -> dict[str, str]:
    """grade_id -> the instructor's answer, for each answer cell of a lab."""
    nb = json.loads((ROOT / "graders" / "source" / lab / f"{lab}.ipynb").read_text())
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution") and c["cell_type"] == "code"}


def wrong(answer: str) -> str:
    """A plausible wrong answer: the answer's first function, returning None."""
    for line in answer.splitlines():
        if line.startswith("def "):
            return f"{line}\n    return None\n"
    pytest.fail(f"no function to get wrong in the answer:\n{answer}")


@pytest.mark.skipif(REAL_LAB is None, reason="no real lab in labs/ and graders/source yet")
def test_real_lab_validates_solutions_and_rejects_a_wrong_answer(page, jupyter, shot):
    open_notebook(page, jupyter, f"labs/{REAL_LAB}/{REAL_LAB}.ipynb")
    answers = solutions(REAL_LAB)
    for grade_id, source in answers.items():
        index = cell_index(page, grade_id)
        assert index >= 0, f"answer cell {grade_id} of graders/source is missing from labs/{REAL_LAB}"
        type_into_cell(page, index, source)
    save(page)
    text = validate(page)
    shot(page, "1-success")
    assert "Success! Your notebook passes all the tests." in text, text
    close_dialog(page)

    first = next(gid for gid, src in answers.items() if "def " in src)
    type_into_cell(page, cell_index(page, first), wrong(answers[first]))
    save(page)
    text = validate(page)
    shot(page, "2-failure")
    assert "The following cell failed" in text and "LabCheckError" in text, text
    close_dialog(page)
