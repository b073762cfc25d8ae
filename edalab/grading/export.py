"""Scores per student, lab and task as CSV, for a spreadsheet or an LMS upload.

Scores come from the gradebook (so manual grades given in formgrader count); the status and
reason columns come from ``edalab grade autograde``'s outcomes, so a submission that could not
be graded shows why instead of a silent 0.
"""

from __future__ import annotations

import csv
import io

from .autograde import load_outcomes, quiet_nbgrader
from .course import Course

COLUMNS = ["student", "lab", "task", "score", "max_score", "status", "reason"]


def rows(course: Course, labs: list[str] | None = None):
    from nbgrader.api import Gradebook

    quiet_nbgrader()
    if not course.gradebook.is_file():
        return
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            if labs and assignment.name not in labs:
                continue
            outcomes = load_outcomes(course, assignment.name)
            for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
                outcome = outcomes.get(sub.student.id)
                reasons = {t.task: t.reason for t in outcome.tasks} if outcome else {}
                for nb in sorted(sub.notebooks, key=lambda n: n.name):
                    for grade in sorted(nb.grades, key=lambda g: g.name):
                        score = grade.score if grade.score is not None and not (
                            grade.needs_manual_grade and grade.manual_score is None) else 0.0
                        yield {
                            "student": sub.student.id, "lab": assignment.name, "task": grade.name,
                            "score": f"{score:g}", "max_score": f"{grade.max_score:g}",
                            "status": outcome.status if outcome else "graded",
                            "reason": reasons.get(grade.name) or (outcome.reason if outcome else "") or "",
                        }


def export_csv(course: Course, labs: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(course, labs):
        writer.writerow(row)
    return out.getvalue()
