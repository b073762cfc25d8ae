"""``edalab hub ...``: a class on one machine (JupyterHub, run as root)."""

from __future__ import annotations

import os
import signal
import subprocess

from . import classroom


def cmd_up(args) -> int:
    root = classroom.class_dir()
    labs = None if args.labs is None else [lab for lab in args.labs.split(",") if lab]
    new = classroom.prepare(root, learners=args.learners, labs=labs)
    for name, password in new.items():
        print(f"  account {name:<12} password {password}")
    if new:
        print(f"(all accounts: {root / 'accounts.json'}, readable by root only)")
    print(f"edalab hub: http://{args.ip}:{args.port}/  (Ctrl-C stops the hub and every server)",
          flush=True)
    env = classroom.hub_env(root, args.port, {"EDALAB_HUB_IP": args.ip})
    proc = subprocess.Popen(classroom.hub_command(root), cwd=root, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reached it already; a script's may not
        proc.wait()
        return 0
    finally:
        _down(root)


def _down(root) -> None:
    classroom.down(root, os.environ.get("EDALAB_HUB_SUBNET", "10.213.0.0/16"),
                   os.environ.get("EDALAB_HUB_TAG", "0"))


def cmd_down(args) -> int:
    _down(classroom.class_dir())
    return 0


def register(sub) -> None:
    hub = sub.add_parser("hub", help="a class on one machine: JupyterHub with one sandboxed stack per learner")
    steps = hub.add_subparsers(dest="step", metavar="STEP")
    steps.required = True
    p = steps.add_parser("up", help="prepare the class folder and run the hub (as root)")
    p.add_argument("--learners", type=int, default=int(os.environ.get("LEARNERS", "3")),
                   help="generated learner accounts for a trial (default 3)")
    p.add_argument("--labs", help="comma-separated labs to release (default: all)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--ip", default="127.0.0.1")
    p.set_defaults(func=cmd_up)
    p = steps.add_parser("down", help="remove network namespaces a crashed hub left behind")
    p.set_defaults(func=cmd_down)
