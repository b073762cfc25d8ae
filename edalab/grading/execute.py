"""How one submission is graded: nbgrader's Execute step, replaced by a sandbox and a checker.

nbgrader runs the tests in the learner's own kernel, where the learner's code can rewrite
them (input transformers, import hooks, patched helpers) and read the hidden ones. Here
``IsolatedExecute`` (used by ``edalab grade autograde``) instead

* takes a pre-started *box* (``sandbox.Box``: its own namespaces, stack and kernel), so no
  two submissions share anything and nothing of the course is inside;
* sends it the submission's code cells plus, from the instructor's source notebook (never
  from the submission), the lab's prelude and every grade cell's full source;
* writes back the learner cells' outputs and, in each grade cell, the checker's verdict:
  no output when it passed, an error output with the checker's message when it did not -
  so nbgrader's own SaveAutoGrades scores the cells and the gradebook, formgrader, feedback
  and export work as before. A grade cell the learner deleted is put back and checked.

Whatever the learner's kernel printed for a grade cell is never read: in-kernel test runs
are the learner's self-check (Validate) only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from . import sandbox

# Filled per graded notebook: {(student, notebook name): reason the run stopped early or None}.
OUTCOMES: dict[tuple[str, str], str | None] = {}

MAX_FILES_BYTES = 64 << 20  # data files sent into a box with the notebook


def account_id(student: str, salt: str = "") -> str:
    """A 12-digit account id derived from the student id (kept in results for reference)."""
    digest = hashlib.sha256(f"{student}\0{salt}".encode()).hexdigest()
    return str(100000000000 + int(digest, 16) % 900000000000)


def kafka_prefix(student: str, salt: str = "") -> str:
    """``<student>-`` made safe for Kafka names (``[A-Za-z0-9._-]``), plus the run's salt."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:60]
    return f"{safe}-{salt}-" if salt else f"{safe}-"


def is_grade_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade"))


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_prelude(cell) -> bool:
    """A setup or data cell of the instructor's source that the checker runs too, so test
    code gets the lab's constants and clients from the course, not from the learner."""
    return cell.get("cell_type") == "code" and bool(cell.get("metadata", {}).get("edalab", {}).get("prelude"))


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


# ---- the boxes of one worker process -------------------------------------------------------

class BoxPool:
    """One box grading, the next one starting: the stack and kernel start-up (a second or
    two) overlaps the previous submission."""

    def __init__(self, limits: dict, insecure: bool = False, log_dir: str | None = None):
        self.limits, self.insecure, self.log_dir = limits, insecure, log_dir
        self._next: sandbox.Box | None = None
        self._count = 0

    def _start(self) -> sandbox.Box:
        self._count += 1
        slot = (os.getpid() % 500) * 2 + self._count % 2
        return sandbox.Box(slot=slot, log_dir=self.log_dir, limits=self.limits, insecure=self.insecure)

    def take(self) -> sandbox.Box:
        box = self._next or self._start()
        self._next = self._start()
        return box

    def close(self) -> None:
        if self._next is not None:
            self._next.kill()
            self._next.discard_log()
            self._next = None


_POOLS: dict[tuple, BoxPool] = {}


def box_pool(limits: dict, insecure: bool, log_dir: str | None) -> BoxPool:
    key = (tuple(sorted(limits.items())), insecure, log_dir)
    if key not in _POOLS:
        _POOLS[key] = BoxPool(limits, insecure, log_dir)
    return _POOLS[key]


def close_pools() -> None:
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


class IsolatedExecute(Execute):
    """nbgrader's Execute, replaced: the submission runs in a box, the checker decides."""

    memory_limit_mb = Integer(2048, help="address-space cap of each learner process (MiB)").tag(config=True)
    file_size_limit_mb = Integer(256, help="largest file learner code may write (MiB)").tag(config=True)
    max_processes = Integer(512, help="processes a sandbox may run at once").tag(config=True)
    submission_timeout = Integer(900, help="seconds for a whole submission").tag(config=True)
    max_output_chars = Integer(100_000, help="characters kept per output").tag(config=True)
    run_salt = Unicode("", help="kept for the results' reference ids").tag(config=True)
    insecure = Bool(False, help="run without namespaces (refused unless the instructor asks)").tag(config=True)
    source_root = Unicode("", help="the course's source folder (the trusted checks)").tag(config=True)
    log_dir = Unicode("", help="where box logs go while a submission is graded").tag(config=True)

    def limits(self) -> dict:
        return {"memory_mb": self.memory_limit_mb, "file_mb": self.file_size_limit_mb,
                "nproc": self.max_processes}

    def preprocess(self, nb, resources=None, km=None):
        info = resources.get("nbgrader", {})
        student = info.get("student", "student")
        notebook = info.get("notebook", "notebook")
        lab = info.get("assignment", "")
        source = self.trusted_source(lab, notebook)
        restore_deleted_checks(nb, source)
        job, order = self.job(nb, source, Path(resources["metadata"]["path"]))
        reason = None
        box = box_pool(self.limits(), self.insecure, self.log_dir or None).take()
        try:
            box.wait_ready()
            box.send(job)
            reply = box.receive(self.submission_timeout + 120)
        except sandbox.BoxDied as exc:
            reply, reason = {}, f"the sandbox stopped before the submission was graded ({exc})"
        finally:
            box.kill()
        if reply.get("error"):
            reason = f"the grader could not run the submission: {reply['error']}"
        cells = {r["index"]: r for r in reply.get("cells", [])}
        verdicts = reply.get("verdicts", {})
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = None
            if is_grade_cell(cell) and grade_id(cell) in order:
                verdict = verdicts.get(grade_id(cell))
                if verdict is None:
                    cell.outputs = [error_output("NotRun", reason or "the check did not run")]
                elif verdict.get("passed"):
                    cell.outputs = []
                else:
                    cell.outputs = [error_output(verdict.get("ename") or "LabCheckError",
                                                 verdict.get("message") or "the check failed")]
                continue
            result = cells.get(index)
            if result is None:
                cell.outputs = [error_output("NotRun", reason)] if reason else []
            elif "notrun" in result:
                reason = reason or result["notrun"]
                cell.outputs = [error_output("NotRun", result["notrun"])]
            else:
                cell.outputs = [nbformat.from_dict(o) for o in result.get("outputs", [])]
                if result.get("dead") and not reason:
                    reason = ("the kernel died (the code exited the process or crashed it); "
                              "it was restarted for the cells after that point")
        OUTCOMES[(student, notebook)] = reason
        if not reason:
            box.discard_log()  # kept when something went wrong: the instructor may look
        return nb, resources

    def trusted_source(self, lab: str, notebook: str) -> NotebookNode:
        path = Path(self.source_root) / lab / f"{notebook}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"the course has no source notebook {path}")
        return nbformat.read(path, as_version=4)

    def job(self, nb, source: NotebookNode, submission_dir: Path) -> tuple[dict, set]:
        checks = {grade_id(c): c.source for c in source.cells if is_grade_cell(c)}
        steps = []
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if is_grade_cell(cell):
                gid = grade_id(cell)
                if gid in checks:
                    steps.append({"kind": "check", "grade_id": gid, "source": checks[gid],
                                  "timeout": max(self.timeout or 120, 60)})
                continue  # a grade cell the course does not know scores nothing
            steps.append({"kind": "code", "index": index, "source": cell.source})
        answers = set()
        for cell in source.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                answers |= bound_names(cell.source)
        job = {"steps": steps, "prelude": [c.source for c in source.cells if is_prelude(c)],
               "answers": sorted(answers),
               "files": data_files(submission_dir), "cell_timeout": self.timeout or 120,
               "submission_timeout": self.submission_timeout,
               "max_output_chars": self.max_output_chars}
        return job, set(checks)


def bound_names(source: str) -> set[str]:
    """Names a cell binds at top level (assignments, defs, classes): in a solution
    cell these are the learner's answers, so the checker takes them from the kernel even
    where the lab's setup gives them a placeholder value."""
    import ast

    from .checker import strip_magics

    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def data_files(folder: Path) -> dict[str, str]:
    """The submission's data files (not notebooks), base64, up to MAX_FILES_BYTES in all."""
    files, total = {}, 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (not path.is_file() or path.is_symlink() or path.suffix == ".ipynb"
                or any(part.startswith(".") for part in rel.parts)):
            continue
        size = path.stat().st_size
        if total + size > MAX_FILES_BYTES:
            break
        total += size
        files[str(rel)] = base64.b64encode(path.read_bytes()).decode()
    return files


def restore_deleted_checks(nb, source: NotebookNode) -> None:
    """A grade cell missing from the submission (deleted, or its metadata stripped) is put
    back where the source has it, so it is checked and scored like any other."""
    present = {grade_id(c) for c in nb.cells if is_grade_cell(c)}
    position = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
    anchor = None
    for cell in source.cells:
        gid = grade_id(cell)
        if is_grade_cell(cell) and gid not in present:
            copy = nbformat.from_dict(dict(cell))
            copy.outputs = []
            copy.execution_count = None
            at = position.get(anchor, len(nb.cells) - 1) + 1 if anchor else len(nb.cells)
            nb.cells.insert(at, copy)
            position = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
            present.add(gid)
        if gid:
            anchor = gid
