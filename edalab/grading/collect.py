"""Bring submissions into ``submitted/<student>/<lab>/``, where autograde looks.

Two ways in: nbgrader's exchange (learners pressed Submit in JupyterLab on this machine), or
a folder or zip of notebooks named by student, as an LMS download gives them:
``<student>.ipynb`` or ``<student>/<lab>.ipynb`` (or ``<student>/<anything>.ipynb`` when
that folder holds exactly one notebook).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

from .course import Course, GradingError, checked

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def from_exchange(course: Course, lab: str) -> list[str]:
    course.require_lab(lab)
    checked(course.api().collect(lab, update=True), f"collect {lab}")
    return sorted(d.name for d in course.submitted.glob("*") if (d / lab).is_dir())


def _candidates(folder: Path, lab: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for item in sorted(folder.iterdir()):
        if item.name.startswith((".", "__MACOSX")):
            continue
        if item.is_file() and item.suffix == ".ipynb":
            found[item.stem] = item
        elif item.is_dir():
            notebooks = [p for p in item.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
            named = [p for p in notebooks if p.stem == lab]
            if named or len(notebooks) == 1:
                found[item.name] = (named or notebooks)[0]
    return found


def from_files(course: Course, lab: str, source: str | Path, say=print) -> list[str]:
    """Copy ``<student>.ipynb`` / ``<student>/<lab>.ipynb`` from a folder or a zip."""
    course.require_lab(lab)
    source = Path(source)
    if not source.exists():
        raise GradingError(f"{source} does not exist: give a folder or a .zip of notebooks.")
    with tempfile.TemporaryDirectory(prefix="edalab-collect-") as tmp:
        folder = source
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise GradingError(f"{source} is neither a folder nor a zip file.")
            folder = Path(tmp)
            with zipfile.ZipFile(source) as archive:
                # extractall drops absolute paths and `..` (no writing outside tmp).
                archive.extractall(folder)
            entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
            if len(entries) == 1 and entries[0].is_dir() and len(_candidates(entries[0], lab)) > 1:
                folder = entries[0]  # a zip that wraps everything in one top folder
        collected = []
        for student, notebook in _candidates(folder, lab).items():
            if not STUDENT_ID.match(student):
                say(f"skipped {notebook.name}: {student!r} is not a usable student id "
                    "(letters, digits, . _ @ + - ; at most 100 characters)")
                continue
            course.submit(student, lab, notebook)
            collected.append(student)
    if not collected:
        raise GradingError(f"No notebooks found in {source}: expected <student>.ipynb or "
                           f"<student>/{lab}.ipynb.")
    return collected
