"""Where the embedded emulator is made to behave like AWS: one module per service.

moto is the emulator (pinned in requirements.txt); each module here closes one service's
gaps between moto and AWS's documented behaviour, and each gap closed has a parity test in
``tests/parity/`` quoting the AWS documentation it checks. Nothing outside this package
patches moto.

A module exposes ``install()``, called once in the emulator process before it serves, and
may register background workers (``start`` callables) and reset hooks.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger("edalab.aws")

# Order matters only where one extension builds on another (Lambda first: the others
# invoke functions through it; iam last: it guards the deliveries the others set up).
EXTENSIONS = ("lambda_", "sqs", "sns", "events", "s3", "msk", "logs", "iam")

_reset_hooks: list = []
_workers: list = []


def on_reset(fn):
    """Register fn() to run when the emulator state is wiped (``edalab reset``)."""
    _reset_hooks.append(fn)
    return fn


def worker(fn):
    """Register fn() to start (in a daemon thread) once the emulator is serving."""
    _workers.append(fn)
    return fn


def run_reset_hooks() -> None:
    for fn in _reset_hooks:
        try:
            fn()
        except Exception:  # a broken hook must not stop the reset of the others
            log.exception("reset hook %s failed", fn)


def install_all() -> list[str]:
    """Install every extension present; returns the names installed."""
    done = []
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        module.install()
        done.append(name)
    return done


def start_workers() -> None:
    import threading

    for fn in _workers:
        threading.Thread(target=fn, name=f"edalab-{fn.__module__}.{fn.__name__}", daemon=True).start()
