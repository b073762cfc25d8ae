"""Autograde a lab for a whole class in parallel, each submission isolated.

nbgrader grades one submission after another in one process. Here a pool of worker
processes each drive nbgrader's Autograde (in-process, so Python and nbgrader start once
per worker, not per student) against a private copy of the gradebook: SQLite takes one
writer at a time and an open read transaction blocks commits, so workers never share it.
When the batch ends, each worker's rows for its students are merged into the course's
gradebook, which therefore looks exactly as if ``nbgrader autograde`` had run.

Each submission gets its own outcome (``results/<lab>/<student>.json``): total, per-task
score and the reason a task lost points, and a status for submissions that could not be
graded at all (corrupt notebook, kernel that would not start). One bad submission never
stops the batch.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .course import Course, GradingError
from .execute import OUTCOMES, account_id, is_grade_cell, kafka_prefix


@dataclass
class Options:
    """Limits for every submission of a batch (CLI flags; defaults from the course config)."""

    cell_timeout: int | None = None
    submission_timeout: int | None = None
    memory_limit_mb: int | None = None
    run_salt: str = ""
    insecure: bool = False  # grade without namespaces: only when the instructor asks


@dataclass
class Task:
    task: str
    score: float
    max_score: float
    reason: str | None = None


@dataclass
class Outcome:
    student: str
    lab: str
    status: str  # "graded" | "failed"
    score: float
    max_score: float
    reason: str | None = None
    tasks: list[Task] = field(default_factory=list)
    account_id: str = ""
    kafka_prefix: str = ""
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def submissions(course: Course, lab: str) -> list[str]:
    """Students with a collected submission of ``lab`` (``submitted/<student>/<lab>/``)."""
    if not course.submitted.is_dir():
        return []
    return sorted(d.name for d in course.submitted.iterdir()
                  if (d / lab).is_dir() and not d.name.startswith("."))


def _require_generated(course: Course, lab: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook.is_file():
        raise GradingError(f"No gradebook in {course.root}: run `edalab grade generate {lab}` first.")
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        try:
            gb.find_assignment(lab)
        except MissingEntry:
            raise GradingError(f"{lab} is not in the gradebook: run `edalab grade generate {lab}` first.") from None


# ---- worker side ---------------------------------------------------------------------------

_WORKER: dict = {}


def quiet_nbgrader() -> None:
    """nbgrader's own gradebook code trips SQLAlchemy warnings that say nothing to a grader."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)


def _init_worker(root: str, lab: str, scratch: str, options: Options) -> None:
    quiet_nbgrader()
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    course = Course(Path(root))
    db = Path(scratch) / f"gradebook-{os.getpid()}.db"
    shutil.copy2(course.gradebook, db)
    from .execute import IsolatedExecute

    pipeline = [IsolatedExecute if p is Execute else p
                for p in Autograde.class_traits()["autograde_preprocessors"].default()]
    overrides = {
        "CourseDirectory.db_url": f"sqlite:///{db}",
        "Autograde.autograde_preprocessors": pipeline,
        "IsolatedExecute.run_salt": options.run_salt,
        "IsolatedExecute.insecure": options.insecure,
        "IsolatedExecute.source_root": str(course.source),
        "IsolatedExecute.log_dir": str(Path(scratch) / "boxes"),
    }
    for key, value in (("Execute.timeout", options.cell_timeout),
                       ("IsolatedExecute.submission_timeout", options.submission_timeout),
                       ("IsolatedExecute.memory_limit_mb", options.memory_limit_mb)):
        if value:  # else the course config (or the default) holds
            overrides[key] = value
    _WORKER.update(course=course, db=db, api=course.api(course.config(**overrides)),
                   options=options)


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines()
             if re.match(r"\s*[\w.]+(Error|Exception)\b.*", ln)]
    return lines[-1] if lines else "nbgrader could not process the notebook"


def _cell_reasons(path: Path) -> dict[str, str]:
    """Why each test cell failed, from its error output (the message only, never the source)."""
    reasons = {}
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return reasons
    for cell in nb.cells:
        if not is_grade_cell(cell):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            last = errors[-1]
            message = f"{last.get('ename')}: {last.get('evalue')}".strip().rstrip(":")
            reasons[cell.metadata.nbgrader.get("grade_id")] = message
    return reasons


def _summarize(course: Course, db: Path, lab: str, student: str, result: dict,
               options: Options, seconds: float) -> Outcome:
    from nbgrader.api import Gradebook, MissingEntry

    outcome = Outcome(student, lab, "graded", 0.0, 0.0,
                      account_id=account_id(student, options.run_salt),
                      kafka_prefix=kafka_prefix(student, options.run_salt), seconds=round(seconds, 2))
    if not result.get("success"):
        outcome.status = "failed"
        outcome.reason = ("the submission could not be graded: "
                          + _last_error_line((result.get("log") or "") + "\n" + (result.get("error") or "")))
    stopped = [r for (s, _), r in OUTCOMES.items() if s == student and r]
    if stopped and outcome.reason is None:
        outcome.reason = stopped[0]
    with Gradebook(f"sqlite:///{db}") as gb:
        assignment = gb.find_assignment(lab)
        for notebook in assignment.notebooks:
            reasons = _cell_reasons(course.autograded / student / lab / f"{notebook.name}.ipynb")
            for cell in notebook.grade_cells:
                score = None
                try:
                    grade = gb.find_grade(cell.name, notebook.name, lab, student)
                    score = grade.score if not grade.needs_manual_grade or grade.manual_score is not None else None
                except MissingEntry:
                    pass
                reason = reasons.get(cell.name)
                if outcome.status == "failed":
                    score, reason = 0.0, outcome.reason
                elif score is None:
                    score, reason = 0.0, ("test cell missing or its nbgrader metadata removed: scored 0 "
                                          "(restore the cell from the learner copy to be graded)")
                elif score < cell.max_score and reason is None:
                    reason = "the test cell did not pass"
                outcome.tasks.append(Task(cell.name, float(score), float(cell.max_score), reason))
    outcome.score = sum(t.score for t in outcome.tasks)
    outcome.max_score = sum(t.max_score for t in outcome.tasks)
    return outcome


def _grade_one(lab: str, student: str) -> dict:
    course, db, api, options = (_WORKER[k] for k in ("course", "db", "api", "options"))
    OUTCOMES.clear()
    started = time.monotonic()
    try:
        result = api.autograde(lab, student, force=True, create=True)
    except Exception as exc:  # nbgrader itself failed; the batch must go on
        result = {"success": False, "error": f"{type(exc).__name__}: {exc}"}
    outcome = _summarize(course, db, lab, student, result, options, time.monotonic() - started)
    out = course.results / lab / f"{student}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(outcome.to_json())
    return {"outcome": asdict(outcome), "db": str(db)}


# ---- parent side ---------------------------------------------------------------------------

def merge(main_db: Path, worker_db: Path, lab: str, students: list[str]) -> None:
    """Copy these students' submission rows of ``lab`` from a worker's gradebook copy."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{worker_db}") as src, Gradebook(f"sqlite:///{main_db}") as dst:
        for student in students:
            try:
                sub = src.find_submission(lab, student)
            except MissingEntry:
                continue
            s = src.find_student(student)
            dst.update_or_create_student(student, first_name=s.first_name, last_name=s.last_name,
                                         email=s.email, lms_user_id=s.lms_user_id)
            dst.update_or_create_submission(lab, student, timestamp=sub.timestamp)
            for nb in sub.notebooks:
                target_nb = dst.find_submission_notebook(nb.name, lab, student)
                target_nb.flagged = nb.flagged
                for g in nb.grades:
                    t = dst.find_grade(g.name, nb.name, lab, student)
                    t.auto_score, t.manual_score = g.auto_score, g.manual_score
                    t.extra_credit, t.needs_manual_grade = g.extra_credit, g.needs_manual_grade
                for c in nb.comments:
                    t = dst.find_comment(c.name, nb.name, lab, student)
                    t.auto_comment, t.manual_comment = c.auto_comment, c.manual_comment
            dst.db.commit()
            penalty = {nb.name: nb.late_submission_penalty for nb in sub.notebooks}
            for name, value in penalty.items():
                target_nb = dst.find_submission_notebook(name, lab, student)
                target_nb.late_submission_penalty = value
            dst.db.commit()


def autograde(course: Course, lab: str, students: list[str] | None = None, workers: int = 2,
              options: Options | None = None, say=lambda *_: None) -> list[Outcome]:
    """Grade every (or the named) submission of ``lab`` with ``workers`` processes, each
    submission in a sandbox of its own.

    A worker that dies takes no submission with it: whatever it held is graded again in a
    fresh pool, and a submission that still could not be graded comes back as ``failed``
    with the reason (the CLI then exits non-zero).
    """
    from . import sandbox

    course.require_lab(lab)
    _require_generated(course, lab)
    options = options or Options()
    if not options.insecure and not sandbox.available():
        raise GradingError(
            f"Grading needs a sandbox per submission and this machine cannot make one: "
            f"{sandbox.unavailable_reason()}. Grade on a machine that allows user namespaces "
            "(see docs/instructor.md), or pass --insecure to grade without isolation "
            "(learner code could then read the hidden tests and change other grades).")
    if not options.run_salt:
        options.run_salt = uuid.uuid4().hex[:6]
    found = submissions(course, lab)
    if students:
        missing = sorted(set(students) - set(found))
        if missing:
            raise GradingError(f"No submission of {lab} from: {', '.join(missing)} "
                               f"(looked in {course.submitted}/<student>/{lab}/).")
        found = sorted(students)
    if not found:
        raise GradingError(f"No submissions of {lab} in {course.submitted}: run `edalab grade collect` first.")
    for folder in (course.autograded, course.results / lab):
        folder.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    by_db: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="edalab-grade-") as scratch:
        pending = list(found)
        for attempt in (1, 2):
            if not pending:
                break
            errors = _run_pool(course, lab, pending, max(1, min(workers, len(pending))), scratch,
                               options, outcomes, by_db, say)
            pending = sorted(errors)
            if attempt == 2:
                for student in pending:
                    outcome = Outcome(student, lab, "failed", 0.0, 0.0,
                                      reason=f"could not be graded: {errors[student]}")
                    outcomes[student] = outcome
                    out = course.results / lab / f"{student}.json"
                    out.write_text(outcome.to_json())
                    say(outcome)
        quiet_nbgrader()
        for db, graded in by_db.items():
            merge(course.gradebook, Path(db), lab, graded)
    return sorted(outcomes.values(), key=lambda o: o.student)


def _run_pool(course, lab, students, workers, scratch, options, outcomes, by_db, say) -> dict[str, str]:
    """One pool over ``students``; returns {student: why} for those a dead worker lost."""
    lost: dict[str, str] = {}
    # fork starts workers with nbgrader already imported (seconds saved per worker) but is
    # only safe from a single-threaded parent; otherwise a clean forkserver child.
    method = "fork" if threading.active_count() == 1 else "forkserver"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                             initializer=_init_worker,
                             initargs=(str(course.root), lab, scratch, options)) as pool:
        futures = {pool.submit(_grade_one, lab, student): student for student in students}
        for future in as_completed(futures):
            student = futures[future]
            try:
                done = future.result()
            except Exception as exc:  # the worker process died: grade it again
                lost[student] = f"the grading worker failed ({type(exc).__name__}: {exc})"
                continue
            outcome = _outcome_from_dict(done["outcome"])
            by_db.setdefault(done["db"], []).append(student)
            outcomes[student] = outcome
            say(outcome)
    return lost


def _outcome_from_dict(data: dict) -> Outcome:
    data = dict(data)
    data["tasks"] = [Task(**t) for t in data.get("tasks", [])]
    return Outcome(**data)


def load_outcomes(course: Course, lab: str) -> dict[str, Outcome]:
    folder = course.results / lab
    if not folder.is_dir():
        return {}
    return {p.stem: _outcome_from_dict(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))}
