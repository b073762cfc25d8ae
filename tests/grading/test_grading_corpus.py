"""Every bad submission in the corpus gets a clear outcome (score and reason) in one batch,
the batch finishes, and the correct submission graded alongside keeps full marks."""

from __future__ import annotations

import shutil

import pytest

from grading_corpus import CASES, DUMMY, build

from edalab.grading import Course
from edalab.grading.autograde import Options, autograde, load_outcomes


@pytest.fixture(scope="module")
def graded(stack, generated_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(generated_template.root.parent, root, dirs_exist_ok=True)
    course = Course(root / "graders")
    cases = build()
    for spec, text in cases:
        course.submit(spec.name, DUMMY, text=text)
    options = Options(cell_timeout=20, submission_timeout=120, memory_limit_mb=1536)
    outcomes = {o.student: o for o in autograde(course, DUMMY, workers=2, options=options)}
    return course, {spec.name: spec for spec, _ in cases}, outcomes


CASE_NAMES = [spec.name for spec, _ in CASES]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_outcome(graded, name):
    _, specs, outcomes = graded
    spec, outcome = specs[name], outcomes[name]
    scores = {t.task: t.score for t in outcome.tasks}
    detail = f"{spec.why}\n{outcome}"
    assert outcome.status == spec.status, detail
    assert scores == spec.scores, detail
    for task, word in spec.reason.items():
        reason = outcome.reason if task == "*" else next(t.reason for t in outcome.tasks if t.task == task)
        assert reason and word in reason, detail
    for task in outcome.tasks:
        if task.score < task.max_score:
            assert task.reason, f"{name}: {task.task} lost points without a reason"


def test_outcomes_are_saved_and_big_output_is_cut(graded):
    course, specs, outcomes = graded
    saved = load_outcomes(course, DUMMY)
    assert set(saved) == set(specs)
    notebook = course.autograded / "megabytes_of_output" / DUMMY / f"{DUMMY}.ipynb"
    assert notebook.stat().st_size < 1_000_000


def test_feedback_for_the_whole_batch(graded):
    """Feedback goes on past submissions that cannot be rendered and leaks no hidden test."""
    from edalab.grading.feedback import generate_feedback

    course, specs, outcomes = graded
    skipped = []
    pages = generate_feedback(course, DUMMY, say=skipped.append)
    graded_ok = {name for name, o in outcomes.items() if o.status == "graded"}
    assert {p.parent.parent.name for p in pages} == graded_ok
    assert all("HIDDEN-CHECK" not in p.read_text() for p in pages)
    page = (course.feedback / "always_equal" / DUMMY / f"{DUMMY}.html").read_text()
    assert "must be the whole number 42" in page  # the hidden check's message is feedback
    assert "type(answer) is int" not in page  # its source is not


def test_each_kernel_runs_in_its_own_sandbox(graded):
    import nbformat

    course, specs, outcomes = graded
    me = outcomes["prints_its_identity"]
    nb = nbformat.read(course.autograded / me.student / DUMMY / f"{DUMMY}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    line = next(ln for ln in text.splitlines() if ln.startswith("IDENTITY"))
    assert line == "IDENTITY 1000 edalab-sandbox /box/work [] []", line


def test_gradebook_holds_the_batch(graded):
    """The worker gradebooks were merged into the course's: nbgrader sees every score."""
    from nbgrader.api import Gradebook

    course, specs, outcomes = graded
    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        for name in ("good", "os_exit", "infinite_loop"):
            sub = gb.find_submission(DUMMY, name)
            assert sub.score == outcomes[name].score, name
