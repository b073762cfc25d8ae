"""The whole instructor flow on the dummy lab, with learners using nbgrader's own commands:
generate, release, learners fetch and submit, collect, autograde, feedback (released and
fetched back), export."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grading_corpus import DUMMY, SOLUTION

from edalab.grading.autograde import autograde
from edalab.grading.collect import from_exchange
from edalab.grading.export import export_csv
from edalab.grading.feedback import generate_feedback


def learner(course, user: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command as learner ``user``, from the learner's own folder.

    Every learner is the same OS user here, so the student id is given explicitly (on a
    shared server nbgrader takes it from the login).
    """
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    exchange = course.root.parent / ".edalab" / "exchange"
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--course=edalab",
                             f"--Exchange.root={exchange}", f"--CourseDirectory.student_id={user}"],
                            cwd=home, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_instructor_flow(stack, new_course, tmp_path):
    from edalab.grading.course import checked

    course = new_course()
    checked(course.api().release_assignment(DUMMY), "release")

    homes = {name: tmp_path / "learners" / name for name in ("learner1", "learner2")}
    for name, home in homes.items():
        learner(course, name, home, "fetch_assignment", DUMMY)
    fetched = homes["learner1"] / DUMMY / f"{DUMMY}.ipynb"
    assert "raise NotImplementedError()" in fetched.read_text()
    shutil.copy2(SOLUTION, fetched)  # learner1 solves it; learner2 hands in the blank copy
    for name, home in homes.items():
        learner(course, name, home, "submit", DUMMY)

    assert from_exchange(course, DUMMY) == ["learner1", "learner2"]
    outcomes = {o.student: o for o in autograde(course, DUMMY, workers=2)}
    assert (outcomes["learner1"].score, outcomes["learner2"].score) == (4, 0)

    pages = generate_feedback(course, DUMMY, release=True)
    assert len(pages) == 2
    for page in pages:
        html = page.read_text()
        assert "HIDDEN-CHECK" not in html and "BEGIN HIDDEN TESTS" not in html
    assert "Set answer to a value." in (course.feedback / "learner2" / DUMMY / f"{DUMMY}.html").read_text()
    learner(course, "learner2", homes["learner2"], "fetch_feedback", DUMMY)
    assert list((homes["learner2"] / DUMMY / "feedback").rglob("*.html"))

    table = list(csv.DictReader(io.StringIO(export_csv(course))))
    got = {(r["student"], r["task"]): float(r["score"]) for r in table}
    assert got == {("learner1", "test-add"): 2, ("learner1", "test-answer"): 1, ("learner1", "test-queue"): 1,
                   ("learner2", "test-add"): 0, ("learner2", "test-answer"): 0, ("learner2", "test-queue"): 0}
    assert all(r["reason"] for r in table if r["student"] == "learner2")
