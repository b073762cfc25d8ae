"""The bad-submission corpus: the dummy lab's solution, broken on purpose in every way a
class of learners manages, each with the outcome the grader must give it.

Each entry mutates the solution notebook (full marks: test-add 2, test-answer 1,
test-queue 1) and names the expected score per task, plus a word the reason must contain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

DUMMY = "dummy_lab"
FIXTURE_SOURCE = Path(__file__).resolve().parent / "fixture_course" / "source"
SOLUTION = FIXTURE_SOURCE / DUMMY / f"{DUMMY}.ipynb"
FULL = {"test-add": 2, "test-answer": 1, "test-queue": 1}


@dataclass
class Case:
    name: str
    why: str
    scores: dict
    status: str = "graded"
    reason: dict = field(default_factory=dict)  # task (or "*" for the submission) -> substring
    text: str | None = None  # raw file content instead of a notebook


def _cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def answer(source: str):
    def mutate(nb):
        _cell(nb, "answer-answer").source = source
    return mutate


CASES: list[tuple[Case, object]] = []


def case(name, why, scores, mutate=None, **kw):
    CASES.append((Case(name, why, {**FULL, **scores}, **kw), mutate))


case("good", "a correct submission graded in the same batch keeps full marks", {})
case("prints_its_identity", "runs in a sandbox of its own: its own uid, host and an empty work folder", {},
     answer("import os, socket\nprint('IDENTITY', os.getuid(), socket.gethostname(), os.getcwd(), "
            "sorted(os.listdir()), sorted(os.listdir('/proc')))\nanswer = 42"))
case("infinite_loop", "the per-cell timeout interrupts the loop; later cells still run",
     {"test-add": 0},
     lambda nb: setattr(_cell(nb, "answer-add"), "source", "while True:\n    pass\n\ndef add(a, b):\n    return a + b"),
     reason={"test-add": "NameError"})
case("exception_in_answer", "an error in an answer cell costs that task only",
     {"test-answer": 0}, answer("answer = 1 / 0"), reason={"test-answer": "NameError"})
case("sys_exit", "IPython turns sys.exit() into an error in that cell",
     {"test-answer": 0}, answer("import sys\nsys.exit(3)\nanswer = 42"))
case("os_exit", "the kernel dies; a fresh kernel runs the later cells (without the dead one's state)",
     {"test-answer": 0, "test-queue": 0}, answer("import os\nos._exit(0)"),
     reason={"*": "kernel died", "test-queue": "NameError"})
case("deleted_test_cell", "a deleted test cell is put back from the course and graded",
     {}, lambda nb: nb.cells.remove(_cell(nb, "test-add")))
case("stripped_metadata", "test cells without nbgrader metadata are put back and graded",
     {}, lambda nb: [c.metadata.pop("nbgrader", None) for c in nb.cells])
case("edited_locked_test", "the emptied test cell is restored from the gradebook and fails",
     {"test-add": 0},
     lambda nb: (setattr(_cell(nb, "test-add"), "source", "pass"),
                 setattr(_cell(nb, "answer-add"), "source", "def add(a, b):\n    return a - b")),
     reason={"test-add": "LabCheckError"})
case("always_equal", "an object whose __eq__ is always True does not pass a type-aware check",
     {"test-answer": 0},
     answer("class Anything:\n    def __eq__(self, other):\n        return True\n\nanswer = Anything()"),
     reason={"test-answer": "LabCheckError"})
case("reads_gradebook", "the kernel's sandbox holds no gradebook or solutions, by any path",
     {"test-answer": 0},
     answer("import glob, os\nprint(os.getcwd())\nfound = [p for pattern in ('gradebook.db', '../gradebook.db', "
            "'../../gradebook.db', '../../../gradebook.db', '**/gradebook.db', '../../source/**/*.ipynb', "
            "'../../../source/**/*.ipynb') for p in glob.glob(pattern, recursive=True)]\nprint(found)\n"
            "answer = 42 if found else 'nothing found'"),
     reason={"test-answer": "LabCheckError"})
case("monkeypatches_checks", "check helpers run in the checker, not in the kernel",
     {"test-answer": 0},
     answer("import labchecks\nlabchecks.check = lambda *a, **k: None\ncheck = lambda *a, **k: None\nanswer = 7"),
     reason={"test-answer": "LabCheckError"})
case("megabytes_of_output", "output is cut; the grade is unaffected", {},
     lambda nb: setattr(_cell(nb, "answer-add"), "source",
                        "for _ in range(20):\n    print('x' * 500_000)\n\ndef add(a, b):\n    return a + b"))
case("memory_hog", "the address-space rlimit turns endless allocation into MemoryError",
     {"test-answer": 0},
     answer("def hog():\n    blocks = []\n    while True:\n        blocks.append(bytearray(64 * 1024 * 1024))\n\nhog()\nanswer = 42"),
     reason={"test-answer": "NameError"})
case("leaves_resources", "creates extra resources in its own account; nobody else sees them", {},
     lambda nb: setattr(_cell(nb, "answer-queue"), "source",
                        "sqs = edalab.client(\"sqs\")\nsqs.create_queue(QueueName=\"orders\")\n"
                        "for i in range(5):\n    sqs.create_queue(QueueName=f\"orders-left-{i}\")"))
case("no_queue", "graded after others created `orders` in their accounts: still 0 for the queue",
     {"test-queue": 0},
     lambda nb: setattr(_cell(nb, "answer-queue"), "source", "sqs = edalab.client(\"sqs\")"),
     reason={"test-queue": "LabCheckError"})
case("network_call", "a call to a non-loopback address fails in that cell only",
     {"test-answer": 0},
     answer("import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)\nanswer = 42"))
case("empty_file", "an empty .ipynb is reported, not crashed on", {k: 0 for k in FULL},
     status="failed", reason={"*": "could not be graded"}, text="")
case("corrupt_file", "a truncated .ipynb is reported, not crashed on", {k: 0 for k in FULL},
     status="failed", reason={"*": "could not be graded"}, text='{"cells": [{"cell_type": "code", "sour')


def build(solution_path=SOLUTION) -> list[tuple[Case, str | None]]:
    """[(case, notebook text)] for every case."""
    solution = nbformat.read(solution_path, as_version=4)
    out = []
    for spec, mutate in CASES:
        if spec.text is not None:
            out.append((spec, spec.text))
            continue
        nb = copy.deepcopy(solution)
        if mutate:
            mutate(nb)
        out.append((spec, nbformat.writes(nb)))
    return out
