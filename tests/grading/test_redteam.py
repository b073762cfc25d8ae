"""Attacks on the grader, graded in one batch with honest submissions (issue: grades that
cannot be forged). Every attack really runs, in a real sandbox, against the real checker."""

from __future__ import annotations

import base64
import codecs
import hashlib
import os
import shutil
import subprocess
import zlib
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_corpus import DUMMY, SOLUTION
from redteam_corpus import ATTACKS, FULL, SECRET, SURVIVOR

from edalab.grading import Course, sandbox
from edalab.grading.autograde import Options, autograde
from edalab.grading.course import REPO

pytestmark = pytest.mark.skipif(not sandbox.available(),
                                reason=f"no sandbox here: {sandbox.unavailable_reason()}")

HIDDEN_MARKERS = ["HIDDEN-CHECK-7f3a", "HIDDEN-CHECK-9b1c", "HIDDEN-CHECK-c2d4",
                  "add(20, 22) == 42", "type(answer) is int and answer == 42"]


def tree_hash(*roots: Path, skip=("gradebook.db", "autograded", "submitted", "feedback",
                                  "results", "__pycache__", ".edalab")) -> dict[str, str]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(part in skip for part in path.relative_to(root).parts):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def with_attack(base: nbformat.NotebookNode, code: str) -> str:
    nb = nbformat.from_dict(base)
    first_answer = next(i for i, c in enumerate(nb.cells)
                        if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    nb.cells.insert(first_answer, nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb)


def encodings(text: str) -> list[str]:
    raw = text.encode()
    return [text, text[::-1], base64.b64encode(raw).decode(), raw.hex(), codecs.encode(text, "rot13"),
            base64.b64encode(zlib.compress(raw)).decode()]


def survivors() -> list[str]:
    """The attacks' daemons, and any sandbox process whose sandbox is gone (orphaned: its
    parent is the host's init). Live boxes of another batch running at the same time have
    a live launcher as parent and are not counted."""
    out = []
    for proc in psutil.process_iter(["uids", "cmdline", "ppid"]):
        try:
            uid = proc.info["uids"].real if proc.info["uids"] else -1
            cmd = " ".join(proc.info["cmdline"] or [])
        except psutil.Error:
            continue
        orphan = sandbox.FIRST_UID <= uid < sandbox.FIRST_UID + 2000 and proc.info["ppid"] == 1
        if orphan or f"sleep {SURVIVOR}" in cmd:
            out.append(f"{proc.pid} uid={uid} {cmd[:120]}")
    return out


@pytest.fixture(scope="module")
def batch(generated_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("redteam")
    shutil.copytree(generated_template.root.parent, root, dirs_exist_ok=True)
    course = Course(root / "graders")
    blank = nbformat.read(course.release / DUMMY / f"{DUMMY}.ipynb", as_version=4)
    solution = nbformat.read(SOLUTION, as_version=4)
    for attack in ATTACKS:
        base = blank if attack.base == "blank" else solution
        course.submit(attack.name, DUMMY, text=with_attack(base, attack.code))
    for honest in ("honest_1", "honest_2"):
        course.submit(honest, DUMMY, SOLUTION)
    before = tree_hash(course.root, REPO / "graders" / "labchecks", REPO / "edalab", REPO / "labs")
    os.environ["EDALAB_TEST_SECRET"] = SECRET
    try:
        options = Options(cell_timeout=20, submission_timeout=180, memory_limit_mb=1536)
        outcomes = {o.student: o for o in autograde(course, DUMMY, workers=4, options=options)}
    finally:
        os.environ.pop("EDALAB_TEST_SECRET", None)
    after = tree_hash(course.root, REPO / "graders" / "labchecks", REPO / "edalab", REPO / "labs")
    return course, outcomes, before, after


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_earns_nothing(batch, attack):
    _, outcomes, _, _ = batch
    outcome = outcomes[attack.name]
    scores = {t.task: t.score for t in outcome.tasks}
    assert scores == attack.expected(), f"{attack.why}\n{outcome}"


def test_honest_work_keeps_full_marks(batch):
    _, outcomes, _, _ = batch
    for name in ("honest_1", "honest_2"):
        assert {t.task: t.score for t in outcomes[name].tasks} == FULL, outcomes[name]


def test_course_files_are_byte_identical(batch):
    _, _, before, after = batch
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, changed


def test_no_process_outlives_the_batch(batch):
    assert not survivors()


def outputs_of(course: Course, student: str) -> str:
    nb = nbformat.read(course.autograded / student / DUMMY / f"{DUMMY}.ipynb", as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue  # a grade cell's output is the checker's verdict, not learner output
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts += [str(v) for v in output.get("data", {}).values()]
            texts.append(str(output.get("evalue", "")))
    return "\n".join(texts)


def test_no_hidden_test_and_no_secret_reaches_learner_output(batch):
    course, outcomes, _, _ = batch
    for student in outcomes:
        if outcomes[student].status != "graded":
            continue
        text = outputs_of(course, student)
        assert SECRET not in text, student
        for marker in HIDDEN_MARKERS:
            for form in encodings(marker):
                assert form not in text, (student, marker, form)


def test_what_the_attackers_saw(batch):
    """The attacks ran (they are not zero for want of running) and saw nothing of the course."""
    course, _, _, _ = batch
    wrote = outputs_of(course, "writes_course_files")
    # The runtime the sandbox shares is read-only; a course folder is not there at all (a path
    # below /tmp may be re-created in the sandbox's own tmpfs: the real files are compared by
    # hash in test_course_files_are_byte_identical).
    assert "labchecks/__init__.py PermissionError" in wrote or "labchecks/__init__.py OSError" in wrote, wrote
    assert "edalab/__init__.py PermissionError" in wrote or "edalab/__init__.py OSError" in wrote, wrote
    assert "FOUND 0 []" in outputs_of(course, "hunts_hidden_tests")
    assert "PIDS []" in outputs_of(course, "snoops_processes")
    env = outputs_of(course, "dumps_environment")
    assert "ENV" in env and "EDALAB_TEST_SECRET" not in env
    saw = outputs_of(course, "lambda_escape")
    assert "LAMBDA SAW" in saw and "'found': []" in saw and "'procs': []" in saw, saw
    visible = saw[saw.index("'visible': [") + 12:].split("]")[0]
    assert len(visible.split(",")) <= 4, visible  # its own sandbox only: init, runtime, its children
    assert "LIMITED after" in outputs_of(course, "many_processes")
    assert "STOPPED at" in outputs_of(course, "fills_the_disk")
    assert "ATTACKED" in outputs_of(course, "other_accounts")


def test_feedback_of_the_batch_leaks_nothing(batch):
    from edalab.grading.feedback import generate_feedback

    course, _, _, _ = batch
    pages = generate_feedback(course, DUMMY, say=lambda *_: None)
    assert pages
    for page in pages:
        text = page.read_text()
        for marker in HIDDEN_MARKERS:
            for form in encodings(marker):
                assert form not in text, (page, marker)
