"""The supervisor inside one grading sandbox: starts the box's own stack and the learner's
kernel, runs the submission, and decides each test's verdict outside the learner's reach.

``python -m edalab.grading.box`` is started by ``sandbox.Box`` (never by hand). It talks
JSON lines on stdin/stdout:

1. it starts the emulator and the broker on the box's loopback and a kernel in a nested
   sandbox (``sandbox.inner_argv``), then says ``{"ready": true}`` - a grading worker starts
   the next box while the current one grades, so this waiting overlaps;
2. it receives one job: the submission's code cells, the lab's trusted *prelude* (setup and
   data cells of the instructor's source) and its *checks* (each grade cell's full source,
   hidden tests included), in notebook order;
3. learner cells run in the kernel; each check runs here, in this process, with the
   prelude's names and the learner's values fetched as data through ``bridge``; it answers
   ``{"cells": [...], "verdicts": {...}}`` and waits to be killed.

The learner's kernel and Lambda handlers live in nested pid namespaces without /proc: they
cannot see, signal or read this process, which is also made non-dumpable. Whatever they do
to their own kernel (import hooks, AST transformers, patched helpers) changes only values
the checker reads, never the checker's code.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
import traceback

from jupyter_core.utils import run_sync

# Inside a sandbox the box owns /box and the default ports of its own loopback; with
# `--insecure` (no namespaces) the worker gives it a folder and free ports instead.
BOX = os.environ.get("EDALAB_BOX_DIR", "/box")
WORK = f"{BOX}/work"
RUN = f"{BOX}/run"
STACK_HOME = f"{BOX}/stack"
AWS_PORT = os.environ.get("EDALAB_BOX_AWS_PORT", "4566")
KAFKA_PORT = os.environ.get("EDALAB_BOX_KAFKA_PORT", "9092")
SANDBOXED = os.environ.get("EDALAB_BOX_INSECURE") != "1"


def _non_dumpable() -> None:
    """No ptrace, /proc/<pid>/mem or core of this process for anyone without privileges."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


class Channel:
    """The protocol on the original stdout; everything else this process prints goes to stderr."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        self.inp = sys.stdin

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def receive(self) -> dict | None:
        line = self.inp.readline()
        return json.loads(line) if line else None


def kernel_env(extra: dict | None = None) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORK,
           "TZ": "UTC", "EDALAB_TARGET": "embedded", "EDALAB_AWS_PORT": AWS_PORT,
           "EDALAB_KAFKA_PORT": KAFKA_PORT, "EDALAB_HOME": STACK_HOME, "JUPYTER_RUNTIME_DIR": RUN,
           "IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/mpl", "MPLBACKEND": "Agg",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1", "MALLOC_ARENA_MAX": "2"}
    env.update(extra or {})
    return env


def start_stack():
    from edalab.stack import Stack

    os.environ.update({"EDALAB_HOME": STACK_HOME, "EDALAB_AWS_PORT": AWS_PORT,
                       "EDALAB_KAFKA_PORT": KAFKA_PORT, "EDALAB_TARGET": "embedded"})
    for key in ("EDALAB_ACCOUNT_ID", "EDALAB_KAFKA_PREFIX", "EDALAB_AWS_ENDPOINT", "EDALAB_KAFKA_BOOTSTRAP"):
        os.environ.pop(key, None)
    if SANDBOXED:
        # The emulator runs each Lambda execution environment in a nested learner sandbox.
        from edalab.grading.sandbox import inner_argv

        os.environ["EDALAB_LAMBDA_SANDBOX"] = json.dumps(inner_argv(hide=[WORK, RUN]))
    stack = Stack(home=STACK_HOME, aws_port=int(AWS_PORT), kafka_port=int(KAFKA_PORT))
    stack.up(say=lambda *_: None)
    return stack


def start_kernel(limits: dict):
    """A kernel in a nested sandbox, with hard rlimits it cannot raise (prlimit)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    from edalab.grading.sandbox import inner_argv

    os.makedirs(WORK, exist_ok=True)
    os.makedirs(RUN, exist_ok=True)
    mib = 1 << 20
    prefix = ["prlimit", f"--as={limits['memory_mb'] * mib}", f"--fsize={limits['file_mb'] * mib}"]
    if SANDBOXED:  # RLIMIT_NPROC counts the uid's processes: only a box's own uid is bounded
        # ipykernel exits when its parent pid changes, and ignores SIGINT (so interrupts)
        # without a parent: in its own pid namespace its parent is the namespace's init,
        # pid 1, which ipykernel treats as "a parent that never goes away".
        inner = inner_argv(binds=[WORK], ro_binds=[RUN], chdir=WORK)
        prefix += [f"--nproc={limits['nproc']}", "--"] + inner[:-1] + ["--setenv", "JPY_PARENT_PID", "1", "--"]
    else:
        prefix += ["--"]

    # nbclient interrupts a cell on time-out only through the async manager.
    class BoxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [*prefix, *super().format_kernel_cmd(extra_arguments)]

    km = BoxedKernelManager(kernel_name="python3",
                            connection_file=os.path.join(RUN, "kernel.json"))
    # A signal would reach the sandbox launcher, not the kernel: interrupt by message.
    km.kernel_spec.interrupt_mode = "message"
    run_sync(km.start_kernel)(env=kernel_env(), cwd=WORK)
    return km


class Runner:
    """Runs learner cells in the kernel and checks here."""

    def __init__(self, km, job: dict):
        from nbclient import NotebookClient
        from nbformat import v4

        self.km = km
        self.job = job
        self.nb = v4.new_notebook()
        self.client = NotebookClient(self.nb, km=km, timeout=job.get("cell_timeout", 120),
                                     allow_errors=True, kernel_name="python3",
                                     interrupt_on_timeout=True,
                                     resources={"metadata": {"path": WORK}})
        self.max_chars = job.get("max_output_chars", 100_000)

    def run_code(self, code: str, timeout: float, serve=None) -> str:
        """Code in the learner's kernel; returns what it printed (for the bridge). ``serve``
        answers the kernel's callbacks (its input requests) while the code runs."""
        chunks: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                chunks.append(msg["content"].get("text", ""))
                if sum(map(len, chunks)) > 4_000_000:
                    raise RuntimeError("too much output")
            elif msg["msg_type"] == "error":
                chunks.append(f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}\n")

        try:
            def stdin_hook(msg):
                prompt = msg["content"].get("prompt", "")
                self.client.kc.input(serve(prompt) if serve else "")

            run_sync(self.client.kc.execute_interactive)(
                code, silent=False, store_history=False, output_hook=hook, timeout=timeout,
                allow_stdin=True, stdin_hook=stdin_hook)
        except TimeoutError:
            run_sync(self.km.interrupt_kernel)()
            chunks.append("\n(the learner's code did not finish in time)\n")
        return "".join(chunks)

    def kill_kernel(self) -> None:
        pid = getattr(self.km.provisioner, "pid", None)
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def responsive(self) -> bool:
        if not run_sync(self.km.is_alive)():
            return False
        try:
            run_sync(self.client.kc.execute_interactive)("pass", silent=True, store_history=False, timeout=10)
            return True
        except Exception:
            return False

    def restart(self) -> None:
        try:
            self.client.kc.stop_channels()
        except Exception:
            pass
        run_sync(self.km.restart_kernel)(now=True)  # same command, environment and folder
        self.client.kc = self.km.client()
        self.client.kc.start_channels()
        run_sync(self.client.kc.wait_for_ready)(timeout=60)

    def cut(self, cell) -> None:
        for output in cell.get("outputs", []):
            text = output.get("text")
            if isinstance(text, str) and len(text) > self.max_chars:
                output["text"] = text[: self.max_chars] + (
                    f"\n... output cut at {self.max_chars} characters by the grader\n")
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and len(value) > self.max_chars:
                    output["data"][mime] = value[: self.max_chars] + "\n... (cut by the grader)"

    def run(self) -> dict:
        from nbformat import v4

        from edalab.grading import checker
        from edalab.grading.bridge import Bridge

        with self.client.setup_kernel():
            bridge = Bridge(self.run_code, timeout=self.job.get("cell_timeout", 120))
            judge = checker.Checker(bridge, self.job.get("prelude", []), self.job.get("answers", []))
            results, verdicts = [], {}
            deadline = time.monotonic() + self.job.get("submission_timeout", 900)
            for step in self.job["steps"]:
                if time.monotonic() > deadline:
                    results.append({"index": step.get("index"), "notrun": (
                        f"the submission ran longer than {self.job.get('submission_timeout')} s "
                        "in total; the remaining cells were not run")})
                    continue
                if step["kind"] == "code":
                    cell = v4.new_code_cell(step["source"])
                    self.nb.cells.append(cell)
                    # A cell that ignores the interrupt (SIGINT handled or ignored) is ended
                    # by killing its kernel: the restart below picks up from there.
                    watchdog = threading.Timer(2 * self.job.get("cell_timeout", 120) + 15, self.kill_kernel)
                    watchdog.start()
                    try:
                        self.client.execute_cell(cell, len(self.nb.cells) - 1)
                    except Exception as exc:  # timeout the interrupt did not end, dead kernel
                        cell.outputs.append(v4.new_output("error", ename=type(exc).__name__,
                                                          evalue=str(exc)[:500], traceback=[]))
                        if not self.responsive():
                            # A dead or deaf kernel: a fresh one runs the cells after this one
                            # (the learner loses this kernel's state, nothing else).
                            results.append({"index": step["index"], "outputs": cell.outputs,
                                            "dead": True})
                            self.restart()
                            continue
                    finally:
                        watchdog.cancel()
                    self.cut(cell)
                    results.append({"index": step["index"], "outputs": cell.outputs})
                else:
                    verdicts[step["grade_id"]] = judge.check(step["grade_id"], step["source"],
                                                             step.get("timeout", 300))
        return {"cells": results, "verdicts": verdicts}


def main() -> int:
    channel = Channel()
    _non_dumpable()
    started = time.monotonic()
    try:
        limits = json.loads(os.environ.get("EDALAB_BOX_LIMITS") or "{}")
        limits = {"memory_mb": 2048, "file_mb": 256, "nproc": 512, **limits}
        stack = start_stack()
        km = start_kernel(limits)
        # Warm the imports the checks need while the worker hands out the job.
        import edalab.grading.checker  # noqa: F401
        import labchecks  # noqa: F401
    except Exception as exc:
        channel.send({"ready": False, "error": f"{type(exc).__name__}: {exc}",
                      "trace": traceback.format_exc()[-2000:]})
        return 1
    channel.send({"ready": True, "seconds": round(time.monotonic() - started, 2)})
    try:
        job = channel.receive()
        if not job:
            return 0
        for name, data in (job.get("files") or {}).items():
            import base64

            path = os.path.realpath(os.path.join(WORK, name))
            if not path.startswith(WORK + "/"):
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(base64.b64decode(data))
        try:
            reply = Runner(km, job).run()
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-3000:]}
        channel.send(reply)
        channel.receive()  # the worker kills the box; an EOF ends it too
    finally:
        if not SANDBOXED:  # no namespace that dies with us: stop what we started
            run_sync(km.shutdown_kernel)(now=True)
            stack.down(say=lambda *_: None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
