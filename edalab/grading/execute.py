"""How one submission's kernel runs: nbgrader's Execute, isolated and bounded.

nbgrader runs the tests in the learner's kernel, as the grader's user, in the submission's
folder under the course directory: the kernel can open ``../../gradebook.db`` (every hidden
test) or ``source/`` (the solutions), and every learner shares one AWS account. This
preprocessor replaces nbgrader's ``Execute`` in ``edalab grade autograde`` and

* starts the kernel in a scratch folder outside the course holding only the submission's
  data files (not the notebook: its sanitized copy already contains the hidden tests);
* gives it an environment of its own: ``EDALAB_ACCOUNT_ID`` and ``EDALAB_KAFKA_PREFIX`` for
  the learner, while ``EDALAB_HOME``/``EDALAB_*_PORT`` still lead to the running stack;
* caps its address space and file sizes with rlimits (set on the kernel process itself, so
  a learner cannot raise them back);
* bounds the whole submission in time on top of nbgrader's per-cell timeout;
* turns a dead kernel (``sys.exit`` in a thread, ``os._exit``, a crash) into an error on every
  cell that did not run, so unrun test cells score 0 instead of nbgrader's full marks for a
  cell without error output;
* where the machine allows it, covers the course's secrets (sources, gradebook, other
  submissions, the exchange) in a private mount namespace (``sandbox.py``), so they are out
  of reach by absolute path too;
* before each test cell, reloads the ``labchecks`` helpers from disk and rebinds their names
  in the learner's namespace, so a monkeypatched ``check`` cannot pass a test.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import tempfile
import time
from pathlib import Path

import psutil
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer, List, Unicode

from . import sandbox

MIB = 1024 * 1024

# Filled per graded notebook: {(student, notebook name): reason the run stopped early or None}.
OUTCOMES: dict[tuple[str, str], str | None] = {}

RESTORE_HELPERS = r"""
def _edalab_restore_helpers():
    import importlib, sys, types
    loaded = [m for m in list(sys.modules) if m == "labchecks" or m.startswith("labchecks.")]
    for name in loaded:
        del sys.modules[name]
    fresh = {name: importlib.import_module(name) for name in sorted(loaded or ["labchecks"])}
    api = {}
    for module in fresh.values():
        for attr in dir(module):
            if not attr.startswith("_"):
                api.setdefault(attr, getattr(module, attr))
    g = globals()
    for name, value in list(g.items()):
        if name.startswith("_"):
            continue
        if isinstance(value, types.ModuleType) and value.__name__ in fresh:
            g[name] = fresh[value.__name__]
        elif (name in api and g[name] is not api[name] and not isinstance(api[name], types.ModuleType)
              and callable(g[name])):
            # Only a callable can stand in for a check helper; a learner's value that shares
            # a helper's name (a `topic_arn` string) is the learner's and stays.
            g[name] = api[name]
try:
    _edalab_restore_helpers()
except ImportError:
    pass
finally:
    del _edalab_restore_helpers
"""


def account_id(student: str, salt: str = "") -> str:
    """A 12-digit emulator account derived from the student id (and the grading run)."""
    digest = hashlib.sha256(f"{student}\0{salt}".encode()).hexdigest()
    return str(100000000000 + int(digest, 16) % 900000000000)


def kafka_prefix(student: str, salt: str = "") -> str:
    """``<student>-`` made safe for Kafka names (``[A-Za-z0-9._-]``), plus the run's salt."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:60]
    return f"{safe}-{salt}-" if salt else f"{safe}-"


def is_grade_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade"))


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class IsolatedExecute(Execute):
    """nbgrader's Execute, run in a scratch folder with the learner's own account and limits."""

    memory_limit_mb = Integer(2048, help="address-space cap of the kernel (MiB)").tag(config=True)
    file_size_limit_mb = Integer(256, help="largest file the kernel may write (MiB)").tag(config=True)
    submission_timeout = Integer(900, help="seconds for a whole submission").tag(config=True)
    max_output_chars = Integer(100_000, help="characters kept per output").tag(config=True)
    run_salt = Unicode("", help="mixed into account ids and Kafka prefixes: fresh state per run").tag(config=True)
    # The kernel is thrown away after one submission: kill it rather than wait for a
    # graceful shutdown (about half a second per submission).
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)
    use_sandbox = Bool(True, help="cover hidden_paths in a mount namespace when possible").tag(config=True)
    hidden_paths = List(Unicode(), help="files and folders the kernel must not see").tag(config=True)

    def create_kernel_manager(self):
        if self.use_sandbox and self.hidden_paths and sandbox.available():
            self.kernel_manager_class = sandbox.SandboxedKernelManager
        km = super().create_kernel_manager()
        if isinstance(km, sandbox.SandboxedKernelManager):
            km.sandbox_prefix = sandbox.command(list(self.hidden_paths))
        return km

    def preprocess(self, nb, resources=None, km=None):
        # Mirrors nbconvert's ExecutePreprocessor.preprocess, with the kernel's folder,
        # environment and limits replaced and a dead kernel survived.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        student = resources.get("nbgrader", {}).get("student", "student")
        notebook = resources.get("nbgrader", {}).get("notebook", "notebook")
        submission_dir = resources["metadata"]["path"]
        scratch = Path(tempfile.mkdtemp(prefix="edalab-run-"))
        for item in Path(submission_dir).iterdir():
            if item.suffix != ".ipynb" and not item.name.startswith("."):
                copy = shutil.copytree if item.is_dir() else shutil.copy2
                copy(item, scratch / item.name)
        resources["metadata"]["path"] = str(scratch)
        ran: set[int] = set()
        reason = None
        started = time.monotonic()
        try:
            with self.setup_kernel(env=self.kernel_env(student, scratch)):
                self.limit_kernel()
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    if time.monotonic() - started > self.submission_timeout:
                        reason = (f"the submission ran longer than {self.submission_timeout} s "
                                  "in total; the remaining cells were not run")
                        break
                    if is_grade_cell(cell):
                        self.silent(RESTORE_HELPERS)
                    self.preprocess_cell(cell, resources, index)
                    ran.add(index)
        except DeadKernelError:
            reason = ("the kernel died (the code exited the process or crashed it); "
                      "the cells after that point were not run")
        except Exception as exc:  # kernel did not start or stopped answering
            reason = f"the notebook could not be run: {type(exc).__name__}: {exc}"
        finally:
            resources["metadata"]["path"] = submission_dir
            shutil.rmtree(scratch, ignore_errors=True)
        if reason:
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type == "code" and index not in ran:
                    cell.outputs = list(cell.get("outputs", [])) + [error_output("NotRun", reason)]
        OUTCOMES[(student, notebook)] = reason
        self.set_widgets_metadata()
        return self.nb, self.resources

    def kernel_env(self, student: str, scratch: Path) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("JPY_") and k not in ("OLDPWD", "VIRTUAL_ENV_PROMPT")}
        env.update(PWD=str(scratch), EDALAB_ACCOUNT_ID=account_id(student, self.run_salt),
                   EDALAB_KAFKA_PREFIX=kafka_prefix(student, self.run_salt))
        return env

    def limit_kernel(self) -> None:
        """rlimits on the kernel process (prlimit): hard limits it cannot raise again."""
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if not pid:
            return
        proc = psutil.Process(pid)
        for kind, mib in ((resource.RLIMIT_AS, self.memory_limit_mb),
                          (resource.RLIMIT_FSIZE, self.file_size_limit_mb)):
            if mib > 0:
                proc.rlimit(kind, (mib * MIB, mib * MIB))

    def silent(self, code: str) -> None:
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        self.wait_for_reply(msg_id)

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        cell = kwargs["cell"]
        for output in cell.get("outputs", []):
            text = output.get("text")
            if isinstance(text, str) and len(text) > self.max_output_chars:
                output["text"] = text[: self.max_output_chars] + (
                    f"\n... output cut at {self.max_output_chars} characters by the grader\n")
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and len(value) > self.max_output_chars:
                    output["data"][mime] = value[: self.max_output_chars] + "\n... (cut by the grader)"
