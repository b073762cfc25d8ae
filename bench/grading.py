"""Class-size grading, in one run:

1. `edalab grade autograde` against plain serial `nbgrader autograde` on the same 30
   submissions of the grading tests' dummy lab: both wall times and the ratio (target >= 1.8x
   on 2 cores; every edalab submission runs in a sandbox with its own stack, nbgrader's in the
   grader's kernel), and the scores must agree;
2. 30 submissions each of real labs (default lab05 with Lambda, lab07 FIFO, lab11 Kafka):
   seconds per submission and throughput, and the estimate for a 300-learner class
   (target: 300 submissions of any lab in at most 10 minutes on 2 cores).

    .venv/bin/python bench/grading.py [--students 30] [--workers 4] [--labs a,b] [--lab-students 30]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from edalab.grading import Course  # noqa: E402
from edalab.grading.course import DEFAULT_ROOT  # noqa: E402
from edalab.grading.generate import generate  # noqa: E402
from edalab.stack import Stack, free_port  # noqa: E402

LAB = "dummy_lab"
SOURCE = REPO / "tests" / "grading" / "fixture_course" / "source"

# Variants of the two pure-Python answers; every submission creates its queue, so plain
# nbgrader (one shared account) and edalab (one account each) must give the same scores.
ADD = {"right": "def add(a, b):\n    return a + b",
       "partial": "def add(a, b):\n    return 3 if (a, b) == (1, 2) else 0",
       "wrong": "def add(a, b):\n    return a - b"}
ANSWER = {"right": "answer = 42", "partial": "answer = 42.0", "wrong": "answer = None"}


def submissions(n: int) -> dict[str, str]:
    solution = nbformat.read(SOURCE / LAB / f"{LAB}.ipynb", as_version=4)
    rng = random.Random(7)
    out = {}
    for i in range(n):
        nb = copy.deepcopy(solution)
        cells = {c.get("id"): c for c in nb.cells}
        cells["answer-add"].source = ADD[rng.choice(list(ADD))]
        cells["answer-answer"].source = ANSWER[rng.choice(list(ANSWER))]
        out[f"s{i:03d}"] = nbformat.writes(nb)
    return out


def scores(course: Course) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(LAB).submissions}


def timed(cmd: list[str], cwd: Path) -> float:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def real_lab(lab: str, n: int, workers: int, tmp: Path) -> tuple[float, int]:
    """Grade ``n`` copies of a real lab's solution; (wall seconds, how many got full marks)."""
    course = Course.at(DEFAULT_ROOT).copy_to(tmp / f"real-{lab}" / "graders", [lab])
    generate(course, [lab])
    for i in range(n):
        course.submit(f"l{i:03d}", lab, course.source / lab / f"{lab}.ipynb")
    seconds = timed([sys.executable, "-m", "edalab", "grade", "--course", str(course.root),
                     "autograde", lab, "--workers", str(workers)], REPO)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gb:
        assignment = gb.find_assignment(lab)
        full = sum(1 for s in assignment.submissions if s.score == s.max_score)
    return seconds, full


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--labs", default="lab05_sqs_lambda,lab07_sqs_fifo,lab11_msk")
    parser.add_argument("--lab-students", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="edalab-bench-grading-") as tmp:
        tmp = Path(tmp)
        stack = Stack(home=tmp / "home", aws_port=free_port(), kafka_port=free_port())
        os.environ.update(EDALAB_HOME=str(stack.home), EDALAB_AWS_PORT=str(stack.aws_port),
                          EDALAB_KAFKA_PORT=str(stack.kafka_port))
        stack.up(say=lambda *_: None)
        try:
            template = Course.at(DEFAULT_ROOT).copy_to(tmp / "template" / "graders", [LAB], source=SOURCE)
            generate(template, [LAB])
            for student, text in submissions(args.students).items():
                template.submit(student, LAB, text=text)
            courses = {}
            for name in ("edalab", "nbgrader"):
                shutil.copytree(template.root.parent, tmp / name)
                courses[name] = Course(tmp / name / "graders")

            print(f"{args.students} submissions of {LAB}, {os.cpu_count()} cores, "
                  f"load average {os.getloadavg()[0]:.1f}")
            serial = timed([sys.executable, "-m", "nbgrader", "autograde", LAB], courses["nbgrader"].root)
            print(f"nbgrader autograde (serial):              {serial:7.1f} s  "
                  f"({serial / args.students:.2f} s per submission)")
            parallel = timed([sys.executable, "-m", "edalab", "grade", "--course", str(courses["edalab"].root),
                              "autograde", LAB, "--workers", str(args.workers)], REPO)
            print(f"edalab grade autograde --workers {args.workers}:      {parallel:7.1f} s  "
                  f"({parallel / args.students:.2f} s per submission)")
            print(f"ratio (serial / parallel): {serial / parallel:.2f}x  (target >= 1.8x on 2 idle cores)")

            a, b = scores(courses["edalab"]), scores(courses["nbgrader"])
            differ = sorted(s for s in set(a) | set(b) if a.get(s) != b.get(s))
            totals = sorted(a.values())
            print(f"scores: {len(a)} graded, min {totals[0]:g}, max {totals[-1]:g}, "
                  f"mean {sum(totals) / len(totals):.2f}; same as nbgrader: {'yes' if not differ else 'NO'}")
            if differ:
                for s in differ:
                    print(f"  {s}: edalab {a.get(s)} vs nbgrader {b.get(s)}")
                return 1
            slowest = None
            for lab in [x for x in args.labs.split(",") if x]:
                seconds, full = real_lab(lab, args.lab_students, args.workers, tmp)
                per = seconds / args.lab_students
                print(f"{lab}: {args.lab_students} submissions in {seconds:.1f} s: {per:.2f} s per "
                      f"submission, {60 / per:.1f} per minute; {full}/{args.lab_students} full marks")
                if slowest is None or per > slowest[1]:
                    slowest = (lab, per)
            if slowest:
                print(f"300-learner estimate: {300 * slowest[1] / 60:.1f} min (slowest lab {slowest[0]})")
        finally:
            stack.down(say=lambda *_: None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
