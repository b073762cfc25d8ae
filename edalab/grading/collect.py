"""Bring submissions into ``submitted/<student>/<lab>/``, where autograde looks.

Two ways in: nbgrader's exchange (learners pressed Submit in JupyterLab on this machine), or
a folder or zip of notebooks named by student, as an LMS download gives them:
``<student>.ipynb`` or ``<student>/<lab>.ipynb`` (or ``<student>/<anything>.ipynb`` when
that folder holds exactly one notebook).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
import zipfile
from datetime import datetime, timezone
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


def timestamp(epoch: float) -> str:
    """A submission time as nbgrader writes it in timestamp.txt (UTC)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _keep_zip_times(archive: zipfile.ZipFile, folder: Path) -> None:
    """Give extracted files their time in the zip (extractall stamps them with now)."""
    for info in archive.infolist():
        path = folder / info.filename
        if not info.is_dir() and path.is_file():
            try:
                when = time.mktime(info.date_time + (0, 0, -1))
                os.utime(path, (when, when))
            except (OverflowError, ValueError):
                pass


def _stamp(folder: Path, mtime: float) -> None:
    """What an exchange submission carries and nbgrader's later steps read.

    ``timestamp.txt`` (the notebook's modification time: the LMS's hand-in time when it keeps
    it) sets the submission time autograde records; ``release_feedback`` needs it and
    ``submission_secret.txt`` (random, as ``nbgrader submit`` makes it).
    """
    (folder / "timestamp.txt").write_text(timestamp(mtime))
    secret = folder / "submission_secret.txt"
    if not secret.is_file():
        secret.write_text(secrets.token_hex(64))


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
                _keep_zip_times(archive, folder)
            entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
            if len(entries) == 1 and entries[0].is_dir() and len(_candidates(entries[0], lab)) > 1:
                folder = entries[0]  # a zip that wraps everything in one top folder
        collected = []
        for student, notebook in _candidates(folder, lab).items():
            if not STUDENT_ID.match(student):
                say(f"skipped {notebook.name}: {student!r} is not a usable student id "
                    "(letters, digits, . _ @ + - ; at most 100 characters)")
                continue
            _stamp(course.submit(student, lab, notebook).parent, notebook.stat().st_mtime)
            collected.append(student)
    if not collected:
        raise GradingError(f"No notebooks found in {source}: expected <student>.ipynb or "
                           f"<student>/{lab}.ipynb.")
    return collected
