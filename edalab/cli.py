"""The ``edalab`` command: run the lab stack, check the machine, grade labs.

Every failure a learner can cause ends in one line that says what to do, and a non-zero exit
code; no stack traces for expected problems.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from .errors import EdalabError

# Subcommand groups that live with their concern; each module has register(subparsers).
PLUGINS = ("edalab.grading.cli", "edalab.hub.cli")


def _stack(args):
    from .stack import Stack

    return Stack(aws_port=getattr(args, "aws_port", None), kafka_port=getattr(args, "kafka_port", None))


def cmd_up(args) -> int:
    stack = _stack(args)
    print(f"Starting the embedded lab stack (state in {stack.home}) ...", flush=True)
    stack.up(say=lambda msg: print(msg, flush=True), timeout=args.timeout)
    return 0


def cmd_down(args) -> int:
    _stack(args).down()
    return 0


def cmd_status(args) -> int:
    from .target import current

    rows = _stack(args).status()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"target: {current().name}")
        for row in rows:
            state = "up" if row["healthy"] else "DOWN"
            who = f"pid {row['pid']}" if row["pid"] else "not started by edalab"
            print(f"  {row['description']:<13} 127.0.0.1:{row['port']:<6} {state:<5} {who}")
        if not all(r["healthy"] for r in rows):
            print("Start it with: edalab up   (or: make up)")
    return 0 if all(r["healthy"] for r in rows) else 1


def cmd_reset(args) -> int:
    _stack(args).reset(kafka=args.kafka)
    return 0


def cmd_logs(args) -> int:
    print(_stack(args).logs(args.service, lines=args.lines))
    return 0


def cmd_cleanup(args) -> int:
    from .tagging import cleanup

    cleanup(account_id=args.account_id, yes=args.yes)
    return 0


def cmd_doctor(args) -> int:
    from .doctor import run

    return run()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edalab", description="EDA Lab Workbook: the local lab stack and the graded labs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def ports(p):
        p.add_argument("--aws-port", type=int, help="AWS emulator port (default 4566)")
        p.add_argument("--kafka-port", type=int, help="Kafka broker port (default 9092)")

    p = sub.add_parser("up", help="start the embedded stack on loopback and wait until it answers")
    ports(p)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="stop the processes `edalab up` started")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("status", help="each service and its health (exit 1 if any is down)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("reset", help="wipe the emulator's state (all accounts)")
    p.add_argument("--kafka", action="store_true", help="also delete every Kafka topic")
    p.set_defaults(func=cmd_reset)
    p = sub.add_parser("logs", help="the end of the services' logs")
    p.add_argument("service", nargs="?", choices=["aws", "kafka"])
    p.add_argument("-n", "--lines", type=int, default=40)
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("cleanup", help="list (--yes: delete) every resource the course created (tag edalab=course)")
    p.add_argument("--yes", action="store_true", help="delete them, not just list them")
    p.add_argument("--account-id", help="local targets: the emulator account to clean")
    p.set_defaults(func=cmd_cleanup)
    p = sub.add_parser("doctor", help="check Python, packages, ports and Docker; say what to fix")
    p.set_defaults(func=cmd_doctor)
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "\0"):
                raise
            continue
        module.register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except EdalabError as exc:
        print(f"edalab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("edalab: interrupted; nothing left running.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
