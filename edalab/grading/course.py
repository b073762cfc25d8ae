"""Where a course's folders are, and nbgrader's Python API configured for it.

Everything goes through nbgrader's in-process API rather than the ``nbgrader`` command:
one Python start-up per batch instead of one per step, and errors come back as data.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..errors import EdalabError

REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_ROOT = REPO / "graders"
CONFIG_NAME = "nbgrader_config.py"


class GradingError(EdalabError):
    """A grading step failed; the message names the step and nbgrader's reason."""


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder (``graders/`` by default) holding ``nbgrader_config.py``."""

    root: Path = DEFAULT_ROOT

    @classmethod
    def at(cls, root: str | Path | None = None) -> "Course":
        path = Path(root or DEFAULT_ROOT).resolve()
        if not (path / CONFIG_NAME).is_file():
            raise GradingError(
                f"{path} is not a course folder: it has no {CONFIG_NAME}. Pass --course with "
                "the folder that holds source/ and nbgrader_config.py (default: graders/).")
        return cls(path)

    # Folders nbgrader uses (its defaults, relative to the root).
    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def results(self) -> Path:
        """Our per-submission outcome files (status and reason), next to nbgrader's folders."""
        return self.root / "results"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    def labs(self) -> list[str]:
        """Every lab id in source/, sorted (a lab is a folder holding <lab>.ipynb)."""
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir()
                      if p.is_dir() and (p / f"{p.name}.ipynb").is_file())

    def require_lab(self, lab: str) -> str:
        if lab not in self.labs():
            known = ", ".join(self.labs()) or "none yet"
            raise GradingError(f"No lab {lab!r} in {self.source} (labs: {known}).")
        return lab

    def copy_to(self, folder: Path, labs: list[str] | None = None, source: Path | None = None) -> "Course":
        """A fresh course in ``folder`` with this config and the sources of ``labs`` (default all).

        Checks and tests build on such copies, so they never touch this course's gradebook,
        exchange or results. ``source`` takes the lab folders from elsewhere.
        """
        source = Path(source or self.source)
        copy = Course(Path(folder).resolve())
        (copy.root / "source").mkdir(parents=True)
        shutil.copy2(self.root / CONFIG_NAME, copy.root / CONFIG_NAME)
        for lab_dir in sorted(source.iterdir()):
            if lab_dir.is_dir() and (labs is None or lab_dir.name in labs):
                shutil.copytree(lab_dir, copy.source / lab_dir.name,
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        return copy

    def submit(self, student: str, lab: str, notebook: Path | None = None, text: str | None = None) -> Path:
        """Place a submission where ``nbgrader collect`` puts it: submitted/<student>/<lab>/."""
        dest = self.submitted / student / lab
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / f"{lab}.ipynb"
        if text is not None:
            target.write_text(text)
        else:
            shutil.copy2(notebook, target)
        return target

    def config(self, **overrides) -> Config:
        """The course's nbgrader config, with ``{"Section.key": value}`` overrides on top."""
        cfg = PyFileConfigLoader(CONFIG_NAME, path=str(self.root)).load_config()
        for dotted, value in overrides.items():
            section, key = dotted.rsplit(".", 1)
            cfg[section][key] = value
        return cfg

    def api(self, config: Config | None = None):
        # nbgrader runs the `alembic` command by name when it creates a gradebook; with
        # `.venv/bin/edalab` called without an activated venv it would not be on PATH.
        bindir = str(Path(sys.executable).parent)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        cfg = config or self.config()
        api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
        api.log.setLevel(logging.WARNING)
        return api


def checked(result: dict, what: str) -> dict:
    """nbgrader's API reports failure in a dict; turn it into a GradingError with its log."""
    if not result.get("success"):
        detail = "\n".join(filter(None, [result.get("log"), result.get("error")])).strip() or "no details"
        raise GradingError(f"{what} failed:\n{detail}")
    return result
