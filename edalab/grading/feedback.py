"""Feedback HTML that teaches without giving the hidden tests away.

nbgrader's feedback shows every test cell as graded, hidden tests included (upstream issue
#917: by design there). Here the hidden regions are cut from each test cell before the HTML
is rendered, and a test cell's traceback (which quotes the failing line, perhaps a hidden
one) is replaced by its message: the learner sees pass/fail, points and what to fix.
A last scan of the HTML against the hidden lines of the source refuses to leave a leak.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from .course import Course, GradingError, checked
from .execute import is_grade_cell

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for graded notebooks, plus tracebacks of test cells cut to the message."""

    def preprocess_cell(self, cell, resources, cell_index):
        self._remove_hidden_test_region(cell)
        if is_grade_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename')}: {output.get('evalue')}".strip().rstrip(":")
                    output["traceback"] = [message]
        return cell, resources


def hidden_lines(course: Course, lab: str) -> set[str]:
    """Non-trivial lines inside the hidden-test regions of the lab's source notebooks."""
    lines = set()
    for path in (course.source / lab).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for region in re.findall(re.escape(BEGIN) + r"(.*?)" + re.escape(END), cell.source, re.S):
                lines.update(ln.strip() for ln in region.splitlines() if len(ln.strip()) >= 12)
    return lines


def _leaks(html: str, lines: set[str]) -> list[str]:
    import html as htmllib

    text = htmllib.unescape(re.sub(r"<[^>]+>", "", html))
    return sorted(line for line in lines if line in text)


def generate_feedback(course: Course, lab: str, students: list[str] | None = None,
                      release: bool = False, say=print) -> list[Path]:
    """feedback/<student>/<lab>/*.html for every autograded submission (or the named ones).

    A submission nbgrader cannot render is reported through ``say`` and skipped; the others
    still get their feedback.
    """
    course.require_lab(lab)
    cfg = course.config(**{"GenerateFeedback.preprocessors": [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor],
                           "HideHiddenTests.enforce_metadata": False})
    api = course.api(cfg)
    names = students or sorted(p.parent.name for p in course.autograded.glob(f"*/{lab}") if p.is_dir())
    if not names:
        raise GradingError(f"No autograded submissions of {lab}: run `edalab grade autograde {lab}` first.")
    done = []
    for student in names:
        try:
            checked(api.generate_feedback(lab, student, force=True), f"generate_feedback {lab} {student}")
            done.append(student)
        except GradingError as exc:
            say(f"no feedback for {student}: {str(exc).splitlines()[-1]}")
    names = done
    lines = hidden_lines(course, lab)
    written = sorted(p for s in names for p in (course.feedback / s / lab).glob("*.html"))
    for path in written:
        leaked = _leaks(path.read_text(), lines)
        if leaked:
            path.unlink()
            raise GradingError(f"{path} would show hidden test lines ({leaked[0]!r}...); it was "
                               "deleted. Keep hidden tests inside BEGIN/END HIDDEN TESTS markers.")
    if release:
        for student in names:
            checked(api.release_feedback(lab, student), f"release_feedback {lab} {student}")
    return written
