"""The smaller `edalab grade` steps on the dummy lab: generate --check, collect from a folder
or a zip, validate's exit code, and the feedback leak guard."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import nbformat
import pytest
from grading_corpus import DUMMY, SOLUTION

from edalab.grading import GradingError
from edalab.grading.collect import from_files
from edalab.grading.feedback import _leaks, hidden_lines


def edalab(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "edalab", *args], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ))


def test_generate_check_passes_then_names_an_edited_copy(new_course):
    course = new_course()
    assert edalab("grade", "--course", str(course.root), "generate", "--check").returncode == 0
    learner_copy = course.root.parent / "labs" / DUMMY / f"{DUMMY}.ipynb"
    nb = nbformat.read(learner_copy, as_version=4)
    nb.cells[0].source += "\nedited by hand"
    nbformat.write(nb, learner_copy)
    result = edalab("grade", "--course", str(course.root), "generate", "--check")
    assert result.returncode == 1
    assert f"labs/{DUMMY}/{DUMMY}.ipynb" in result.stderr


def test_learner_copy_is_clean(new_course):
    nb = nbformat.read(new_course().root.parent / "labs" / DUMMY / f"{DUMMY}.ipynb", as_version=4)
    assert nb.nbformat_minor >= 5 and all(c.get("id") for c in nb.cells)
    text = nbformat.writes(nb)
    assert "BEGIN SOLUTION" not in text and "HIDDEN-CHECK" not in text
    assert "raise NotImplementedError()" in text


def test_collect_from_folder_and_zip(new_course, tmp_path):
    course = new_course()
    folder = tmp_path / "download"
    (folder / "learner3").mkdir(parents=True)
    (folder / "learner4.ipynb").write_bytes(SOLUTION.read_bytes())
    (folder / "learner3" / f"{DUMMY}.ipynb").write_bytes(SOLUTION.read_bytes())
    (folder / "not a student!.ipynb").write_bytes(SOLUTION.read_bytes())
    skipped = []
    assert from_files(course, DUMMY, folder, say=skipped.append) == ["learner3", "learner4"]
    assert skipped and "not a usable student id" in skipped[0]
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SOLUTION, "export/learner5.ipynb")
        zf.write(SOLUTION, "export/learner6/whatever.ipynb")
    assert from_files(course, DUMMY, archive) == ["learner5", "learner6"]
    assert (course.submitted / "learner6" / DUMMY / f"{DUMMY}.ipynb").is_file()
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradingError, match="No notebooks"):
        from_files(course, DUMMY, tmp_path / "empty")


def test_validate_exit_code(stack, new_course, tmp_path):
    course = new_course()
    blank = course.root.parent / "labs" / DUMMY / f"{DUMMY}.ipynb"
    assert edalab("validate", str(SOLUTION)).returncode == 0
    failed = edalab("validate", str(blank))
    assert failed.returncode == 1 and "VALIDATION FAILED" in failed.stdout
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{")
    result = edalab("validate", str(broken))
    assert result.returncode == 1 and "could not be validated" in result.stderr


def test_leak_guard_sees_what_plain_nbgrader_shows(stack, new_course):
    """Plain `nbgrader generate_feedback` shows hidden tests (#917); the guard catches it."""
    from edalab.grading.autograde import autograde
    from edalab.grading.course import checked

    course = new_course()
    course.submit("learner7", DUMMY, SOLUTION)
    autograde(course, DUMMY, workers=1)
    checked(course.api().generate_feedback(DUMMY, "learner7", force=True), "plain feedback")
    html = (course.feedback / "learner7" / DUMMY / f"{DUMMY}.html").read_text()
    assert _leaks(html, hidden_lines(course, DUMMY))
