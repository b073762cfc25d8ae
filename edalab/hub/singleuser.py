"""Inside a learner's sandbox: start their embedded stack, then become their Jupyter server.

The stack and the server start side by side (a detached child runs ``Stack.up``; this
process ``exec``s the server, so the hub's signals reach it directly), and this module is
also a server extension that holds the server's start-up until the stack answers: the hub
sees the server ready only when the labs can run, in about the time the slower of the two
takes. The stack listens on the namespace's own loopback, default ports, so the learner's
notebooks need no setting.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

STACK_TIMEOUT = 60.0


def _start_stack() -> None:
    """Double fork: the stack's starter is re-parented to the sandbox's pid 1, which reaps it."""
    if os.fork():
        os.wait()
        return
    if os.fork():
        os._exit(0)
    try:
        from edalab.stack import Stack

        Stack().up(say=lambda msg: print(f"edalab: {msg}", flush=True), timeout=STACK_TIMEOUT)
        os._exit(0)
    except BaseException as exc:  # noqa: BLE001 - the server's extension reports it
        print(f"edalab: the stack did not start: {exc}", file=sys.stderr, flush=True)
        os._exit(1)


def main(argv: list[str]) -> None:
    _start_stack()
    command = argv or ["jupyterhub-singleuser"]
    exe = shutil.which(command[0]) or command[0]
    sys.stdout.flush()
    os.execv(exe, [exe, *command[1:]])


def _jupyter_server_extension_points():
    return [{"module": "edalab.hub.singleuser"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from edalab.stack import Stack, aws_healthy, kafka_healthy

    stack = Stack()
    deadline = time.monotonic() + STACK_TIMEOUT
    while time.monotonic() < deadline:
        if aws_healthy(stack.aws_port, timeout=0.5) and kafka_healthy(stack.kafka_port, timeout=0.5):
            serverapp.log.info("edalab: the lab stack answers on 127.0.0.1:%d and :%d",
                               stack.aws_port, stack.kafka_port)
            return
        time.sleep(0.1)
    serverapp.log.error("edalab: the lab stack did not answer within %.0f s; see %s",
                        STACK_TIMEOUT, stack.home / "logs")


if __name__ == "__main__":
    main(sys.argv[1:])
