"""``edalab doctor``: check what the labs need and say, for each problem, what to do."""

from __future__ import annotations

import importlib.metadata as md
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def _pins() -> dict[str, str]:
    pins = {}
    if REQUIREMENTS.exists():
        for line in REQUIREMENTS.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[name.split("[")[0].strip().lower()] = version.strip()
    return pins


def _iam_mode(stack) -> str:
    """Whether the embedded stack enforces IAM: the running emulator says; else what
    ``edalab up`` would start with (``EDALAB_IAM``)."""
    import json
    import os
    import urllib.request

    mode = None
    if stack is not None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{stack.aws_port}/_edalab/health",
                                        timeout=3) as resp:
                mode = json.load(resp).get("iam")
        except (OSError, ValueError):
            mode = None
    if mode is None:
        off = os.environ.get("EDALAB_IAM", "on").strip().lower() in ("off", "0", "false", "no")
        mode = "off" if off else "enforced"
    if mode == "off":
        return ("IAM off (EDALAB_IAM=off): deliveries and handler calls work without queue "
                "policies, Lambda permissions or role policies, unlike on AWS")
    return ("IAM enforced as on AWS: queue/topic/function policies and execution roles are "
            "checked (EDALAB_IAM=off before `edalab up` switches it off)")


def run(say=print) -> int:
    from .stack import Stack, port_free, port_owner
    from .target import current

    problems = 0

    def report(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        say(f"  [{'ok' if ok else '!!'}] {what}" + ("" if ok else f"\n       -> {fix}"))
        problems += not ok

    say("edalab doctor")
    report(sys.version_info >= (3, 11), f"Python {sys.version.split()[0]}",
           "Use Python 3.11 or newer (make lab creates .venv with python3).")
    wrong = []
    for name, version in _pins().items():
        try:
            got = md.version(name)
        except md.PackageNotFoundError:
            wrong.append(f"{name} missing")
            continue
        if got != version:
            wrong.append(f"{name} {got} (pinned {version})")
    report(not wrong, "packages match requirements.txt" if not wrong else "packages: " + ", ".join(wrong[:5]),
           "Run `make install` (or: .venv/bin/pip install -r requirements.txt).")
    try:
        target = current()
        report(True, f"target {target.name}: AWS {target.aws_endpoint or 'real AWS'}, Kafka {target.kafka_bootstrap}")
    except Exception as exc:  # ConfigError / NonLoopbackEndpoint carry the fix
        report(False, "target configuration", str(exc))
        target = None
    stack = Stack()
    running = stack.is_running()
    for name, port in (("AWS emulator", stack.aws_port), ("Kafka broker", stack.kafka_port)):
        if running:
            report(True, f"{name} port {port}: the embedded stack is running")
        elif port_free(port):
            report(True, f"{name} port {port} is free")
        else:
            owner = port_owner(port) or "another process"
            report(False, f"{name} port {port} is taken by {owner}",
                   f"Stop it, or start on another port: edalab up --{'aws' if 'AWS' in name else 'kafka'}-port N")
    say(f"  [--] permissions: {_iam_mode(stack if running else None)}")
    docker = shutil.which("docker")
    engine = False
    if docker:
        engine = subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0
    say(f"  [{'ok' if engine else '--'}] Docker engine {'answers' if engine else 'not available'}"
        " (only the compose target needs it; the embedded target does not)")
    if target is not None and target.name == "compose" and not engine:
        report(False, "the compose target needs a Docker engine",
               "Install/start Docker, or use the default: unset EDALAB_TARGET.")
    say("All good." if not problems else f"{problems} problem(s) found.")
    return 1 if problems else 0
