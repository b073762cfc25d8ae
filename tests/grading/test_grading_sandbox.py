"""Where mount namespaces are allowed, a kernel cannot open the course's secrets even by
absolute path, nor unmount what covers them (skipped where the machine forbids namespaces:
there the scratch folder is the isolation, tested by the corpus)."""

from __future__ import annotations

import json

import nbformat
import pytest
from grading_corpus import DUMMY, SOLUTION

from edalab.grading import sandbox
from edalab.grading.autograde import autograde

pytestmark = pytest.mark.skipif(not sandbox.available(), reason="mount namespaces not allowed here")


def test_kernel_cannot_read_the_course_by_absolute_path(stack, new_course):
    course = new_course()
    secrets = [str(course.gradebook), str(course.source / DUMMY / f"{DUMMY}.ipynb"),
               str(course.submitted / "honest" / DUMMY / f"{DUMMY}.ipynb")]
    nb = nbformat.read(SOLUTION, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == "answer-answer")
    cell.source = (
        "import os, subprocess\n"
        f"paths = {json.dumps(secrets)}\n"
        "leaked = [p for p in paths if os.path.exists(p) and os.path.getsize(p) > 0]\n"
        f"subprocess.run(['umount', {json.dumps(str(course.source))}])\n"
        f"leaked += os.listdir({json.dumps(str(course.source))})\n"
        "print('leaked:', leaked)\n"
        "answer = 42 if leaked else None")
    course.submit("cheater", DUMMY, text=nbformat.writes(nb))
    course.submit("honest", DUMMY, SOLUTION)
    outcomes = {o.student: o for o in autograde(course, DUMMY, workers=2)}
    assert outcomes["honest"].score == 4
    answer = next(t for t in outcomes["cheater"].tasks if t.task == "test-answer")
    assert answer.score == 0, outcomes["cheater"]
    graded = (course.autograded / "cheater" / DUMMY / f"{DUMMY}.ipynb").read_text()
    assert "leaked: []" in graded
