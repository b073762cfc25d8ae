"""The ``edalab grade ...`` and ``edalab validate`` commands (registered by ``edalab.cli``)."""

from __future__ import annotations

import os
import sys

from .course import Course


def _course(args) -> Course:
    return Course.at(args.course)


def cmd_generate(args) -> int:
    course = _course(args)
    if args.check:
        from .generate import check

        differing = check(course, args.labs or None)
        if differing:
            print("labs/ differs from what graders/source generates:", file=sys.stderr)
            for name in differing:
                print(f"  {name}", file=sys.stderr)
            print("Run `edalab grade generate` and commit labs/.", file=sys.stderr)
            return 1
        print("labs/ is up to date.")
        return 0
    from .generate import generate, labs_dir

    done = generate(course, args.labs or None)
    print(f"Generated {len(done)} lab(s) into {labs_dir(course)}: {', '.join(done) or 'none'}")
    return 0


def _print_outcome(outcome) -> None:
    line = f"{outcome.student:<24} {outcome.score:>6g} / {outcome.max_score:<6g} {outcome.status}"
    if outcome.reason:
        line += f"  ({outcome.reason})"
    print(line, flush=True)
    for task in outcome.tasks:
        if task.reason:
            print(f"    {task.task}: {task.score:g}/{task.max_score:g}  {task.reason}", flush=True)


def cmd_autograde(args) -> int:
    from .autograde import Options, autograde

    from . import sandbox

    options = Options(cell_timeout=args.timeout, submission_timeout=args.submission_timeout,
                      memory_limit_mb=args.memory_mb, sandbox=not args.no_sandbox)
    if options.sandbox and not sandbox.available():
        print("note: mount namespaces are not available here; kernels are isolated by their "
              "scratch folder, account and limits only (see docs/instructor.md).", flush=True)
    outcomes = autograde(_course(args), args.lab, args.students or None, workers=args.workers,
                         options=options, say=_print_outcome)
    failed = sum(o.status != "graded" for o in outcomes)
    print(f"Graded {len(outcomes) - failed} of {len(outcomes)} submission(s) of {args.lab}"
          + (f"; {failed} could not be graded (see the reasons above)" if failed else "") + ".")
    return 0


def cmd_release(args) -> int:
    from .course import checked

    course = _course(args)
    course.require_lab(args.lab)
    checked(course.api().release_assignment(args.lab), f"release_assignment {args.lab}")
    print(f"Released {args.lab} to the exchange; learners fetch it from JupyterLab's Assignments tab.")
    return 0


def cmd_collect(args) -> int:
    from .collect import from_exchange, from_files

    course = _course(args)
    if args.source:
        students = from_files(course, args.lab, args.source)
    else:
        students = from_exchange(course, args.lab)
    print(f"{len(students)} submission(s) of {args.lab} in {course.submitted}: {', '.join(students) or 'none'}")
    return 0


def cmd_feedback(args) -> int:
    from .feedback import generate_feedback

    course = _course(args)
    written = generate_feedback(course, args.lab, args.students or None, release=args.release)
    print(f"Wrote {len(written)} feedback file(s) under {course.feedback} (hidden tests removed)"
          + ("; released to the exchange." if args.release else "."))
    return 0


def cmd_export(args) -> int:
    from .export import export_csv

    text = export_csv(_course(args), args.labs or None)
    if args.output and args.output != "-":
        with open(args.output, "w", newline="") as fh:
            fh.write(text)
        print(f"Wrote {max(0, text.count(chr(10)) - 1)} row(s) to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_validate(args) -> int:
    from .validate import validate

    course = Course.at(args.course) if args.course else None
    ok = validate(args.notebook, course)
    return 0 if ok else 1


def register(sub) -> None:
    grade = sub.add_parser("grade", help="generate, collect, autograde, feedback, export (instructors)")
    grade.add_argument("--course", help="course folder with nbgrader_config.py (default: graders/)")
    gsub = grade.add_subparsers(dest="grade_command", metavar="STEP")
    gsub.required = True

    p = gsub.add_parser("generate", help="learner copies of the labs into labs/ (nbgrader generate_assignment)")
    p.add_argument("labs", nargs="*", metavar="LAB", help="lab ids (default: every lab in source/)")
    p.add_argument("--check", action="store_true",
                   help="regenerate in a temporary folder and fail if labs/ differs")
    p.set_defaults(func=cmd_generate)

    p = gsub.add_parser("release", help="put a lab's learner copy in the exchange (nbgrader release_assignment)")
    p.add_argument("lab", metavar="LAB")
    p.set_defaults(func=cmd_release)

    p = gsub.add_parser("collect", help="submissions into submitted/: from the exchange, a folder or a zip")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("--from", dest="source", metavar="PATH",
                   help="folder or .zip of <student>.ipynb or <student>/<lab>.ipynb (default: the exchange)")
    p.set_defaults(func=cmd_collect)

    p = gsub.add_parser("autograde", help="grade every submission of a lab, in parallel and isolated")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("students", nargs="*", metavar="STUDENT", help="only these students")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="parallel kernels (default: number of cores)")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: the course config)")
    p.add_argument("--submission-timeout", type=int,
                   help="seconds per submission (default: the course config, else 900)")
    p.add_argument("--memory-mb", type=int,
                   help="address-space cap per kernel in MiB (default: the course config, else 2048)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="do not hide the course from kernels with a mount namespace")
    p.set_defaults(func=cmd_autograde)

    p = gsub.add_parser("feedback", help="feedback HTML per submission, without hidden tests")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("students", nargs="*", metavar="STUDENT")
    p.add_argument("--release", action="store_true", help="also release it to learners via the exchange")
    p.set_defaults(func=cmd_feedback)

    p = gsub.add_parser("export", help="CSV of scores per student, lab and task")
    p.add_argument("labs", nargs="*", metavar="LAB", help="only these labs")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help="run a lab notebook's tests like the grader (exit 1 if any fails)")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("--course", help="course folder whose config to use (default: graders/)")
    p.set_defaults(func=cmd_validate)
