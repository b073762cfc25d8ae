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

    options = Options(cell_timeout=args.timeout, submission_timeout=args.submission_timeout,
                      memory_limit_mb=args.memory_mb, insecure=args.insecure)
    if args.insecure:
        print("warning: --insecure: submissions run WITHOUT a sandbox; learner code can read the "
              "hidden tests and other submissions and change grades. Use it only for trusted code.",
              flush=True)
    outcomes = autograde(_course(args), args.lab, args.students or None, workers=args.workers,
                         options=options, say=_print_outcome)
    failed = [o.student for o in outcomes if o.status != "graded"]
    print(f"Graded {len(outcomes) - len(failed)} of {len(outcomes)} submission(s) of {args.lab}"
          + (f"; {len(failed)} could not be graded: {', '.join(failed)} (see the reasons above)"
             if failed else "") + ".")
    return 1 if failed else 0


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
    written = generate_feedback(course, args.lab, args.students or None, release=args.release,
                                say=lambda line: print(f"warning: {line}", flush=True))
    print(f"Wrote {len(written)} feedback file(s) under {course.feedback} (test code removed)"
          + ("; released to the exchange." if args.release else "."))
    if written.withheld:
        print(f"Withheld {len(written.withheld)} page(s) that failed the hidden-test leak check: "
              f"{', '.join(sorted(written.withheld))}.")
        return 1 if args.strict else 0
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
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                   help="submissions graded at once, each in its own sandbox (default: twice "
                        "the cores: most of a submission's time is waiting)")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: the course config)")
    p.add_argument("--submission-timeout", type=int,
                   help="seconds per submission (default: the course config, else 900)")
    p.add_argument("--memory-mb", type=int,
                   help="address-space cap per kernel in MiB (default: the course config, else 2048)")
    p.add_argument("--insecure", action="store_true",
                   help="grade without a sandbox where the machine cannot make one (learner "
                        "code is then trusted: it could read hidden tests and change grades)")
    p.set_defaults(func=cmd_autograde)

    p = gsub.add_parser("feedback", help="feedback HTML per submission, without hidden tests")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("students", nargs="*", metavar="STUDENT")
    p.add_argument("--release", action="store_true", help="also release it to learners via the exchange")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if any page was withheld by the leak check (default: a warning, exit 0)")
    p.set_defaults(func=cmd_feedback)

    p = gsub.add_parser("export", help="CSV of scores per student, lab and task")
    p.add_argument("labs", nargs="*", metavar="LAB", help="only these labs")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("validate", help="run a lab notebook's tests like the grader (exit 1 if any fails)")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("--course", help="course folder whose config to use (default: graders/)")
    p.set_defaults(func=cmd_validate)
