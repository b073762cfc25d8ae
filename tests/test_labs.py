"""Every lab in graders/source grades right: the solution gets full marks on every task, the
blank learner copy gets 0 on every task, and the committed learner copies in labs/ are what
the sources generate.

Labs are picked up from graders/source at collection time, so a new lab is tested the moment
it lands. Grading runs through `edalab grade autograde` (isolated kernels with their own
emulator account), against the session's real stack.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from edalab.grading import Course
from edalab.grading.autograde import autograde
from edalab.grading.course import REPO
from edalab.grading.generate import generate

COURSE = Course.at(REPO / "graders")
LABS = COURSE.labs()


@pytest.fixture(scope="module", params=LABS)
def graded(request, stack, tmp_path_factory):
    """{"solution": Outcome, "blank": Outcome} for one lab, graded in a copy of the course."""
    lab = request.param
    course = COURSE.copy_to(tmp_path_factory.mktemp(lab) / "graders", [lab])
    generate(course, [lab])
    course.submit("solution", lab, course.source / lab / f"{lab}.ipynb")
    course.submit("blank", lab, course.release / lab / f"{lab}.ipynb")
    return {o.student: o for o in autograde(course, lab, workers=2)}


def _tasks(outcome):
    return "\n".join(f"  {t.task}: {t.score:g}/{t.max_score:g} {t.reason or ''}" for t in outcome.tasks)


def test_solution_gets_full_marks(graded):
    outcome = graded["solution"]
    assert outcome.status == "graded", outcome.reason
    assert outcome.tasks, "the lab has no graded test cells"
    lost = [t for t in outcome.tasks if t.score != t.max_score]
    assert not lost, f"the solution of {outcome.lab} loses points:\n{_tasks(outcome)}"


def test_blank_copy_scores_zero(graded):
    outcome = graded["blank"]
    assert outcome.status == "graded", outcome.reason
    won = [t for t in outcome.tasks if t.score != 0]
    assert not won, f"the blank copy of {outcome.lab} scores points:\n{_tasks(outcome)}"


def test_learner_copies_are_generated():
    result = subprocess.run([sys.executable, "-m", "edalab", "grade", "generate", "--check"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
