"""The learner's progress over the graded labs: not started, in progress, passing its checks.

"Passing" is decided the honest way: nbgrader's own Validator (what the Validate button runs)
executes the learner's notebook and every visible test cell must pass. That takes seconds per
lab, so it runs only when asked (``check()`` / the button) and its verdict is cached by the
notebook's content hash in ``$EDALAB_HOME/progress.json``: a lab shows "passing" only for the
exact content that passed, and any edit moves it back to "in progress" until re-checked.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import ipywidgets as w

from . import TABLE_CSS, Poller
from .polled import PolledBox

LAB_IDS = (
    "lab01_monolith", "lab02_events_commands", "lab03_event_sourcing", "lab04_cqrs",
    "lab05_sqs_lambda", "lab06_sqs_standard", "lab07_sqs_fifo", "lab08_sns_topic",
    "lab09_sns_lambda", "lab10_eventbridge_s3", "lab11_msk",
)
NOT_STARTED, IN_PROGRESS, PASSING, MISSING = (
    "not started", "in progress", "passing", "not generated")
BLANK_MARK = "raise NotImplementedError"
VALIDATE_TIMEOUT = 600

_VALIDATE = """
import json, sys
from traitlets.config import Config
from nbgrader.validator import Validator
c = Config()
c.ExecutePreprocessor.timeout = 120
print(json.dumps(Validator(config=c).validate(sys.argv[1])))
"""


def labs_dir() -> Path:
    """Where the learner's lab copies live: ``EDALAB_LABS_DIR``, else ``labs/`` next to the
    notebooks folder the kernel runs in, else the course checkout's ``labs/``."""
    env = os.environ.get("EDALAB_LABS_DIR")
    if env:
        return Path(env).expanduser().resolve()
    for base in (Path.cwd(), Path.cwd().parent):
        if (base / "labs").is_dir():
            return (base / "labs").resolve()
    return Path(__file__).resolve().parents[2] / "labs"


def _cache_file() -> Path:
    from ..target import home

    return home() / "progress.json"


def _load_cache() -> dict:
    try:
        return json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _save_cache(cache: dict) -> None:
    path = _cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
    tmp.replace(path)


def notebook_of(lab: str, root: Path | None = None) -> Path:
    return (root or labs_dir()) / lab / f"{lab}.ipynb"


def _answers(nb_path: Path) -> tuple[str, bool]:
    """(hash of the notebook, whether any answer cell differs from the blank stub)."""
    raw = nb_path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        cells = json.loads(raw).get("cells", [])
    except ValueError:
        return digest, True  # unreadable JSON: the learner touched it; validation will say why
    started = False
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.get("cell_type") == "code":
            source = "".join(cell.get("source", ""))
            if BLANK_MARK not in source:
                started = True
    return digest, started


def lab_state(lab: str, root: Path | None = None, cache: dict | None = None) -> dict:
    """One lab's state from its notebook and the cached validation verdict (no execution)."""
    path = notebook_of(lab, root)
    if not path.is_file():
        return {"lab": lab, "state": MISSING, "path": str(path), "detail": "not in labs/ yet: run make labs"}
    digest, started = _answers(path)
    verdict = (cache if cache is not None else _load_cache()).get(str(path), {})
    if verdict.get("sha256") == digest:
        if verdict.get("passed"):
            return {"lab": lab, "state": PASSING, "path": str(path), "detail": "visible checks pass"}
        if started:
            return {"lab": lab, "state": IN_PROGRESS, "path": str(path), "detail": verdict.get("detail", "")}
    if not started:
        return {"lab": lab, "state": NOT_STARTED, "path": str(path), "detail": ""}
    return {"lab": lab, "state": IN_PROGRESS, "path": str(path),
            "detail": "changed since last check" if verdict else "not checked yet"}


def validate(nb_path: Path) -> dict:
    """Run nbgrader's Validator on a notebook in a fresh process; ``passed`` and a one-line detail.

    A subprocess keeps the learner's kernel out of it (the Validator starts its own kernel)
    and lets a stuck lab be timed out.
    """
    env = dict(os.environ)
    try:
        proc = subprocess.run([sys.executable, "-c", _VALIDATE, str(nb_path)], capture_output=True,
                              text=True, timeout=VALIDATE_TIMEOUT, cwd=nb_path.parent, env=env)
    except subprocess.TimeoutExpired:
        return {"passed": False, "detail": f"checks did not finish in {VALIDATE_TIMEOUT} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["validation crashed"])[-1]
        return {"passed": False, "detail": last[:200]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result.get("changed"):
        return {"passed": False, "detail": f"{len(result['changed'])} locked cell(s) edited"}
    if result.get("failed"):
        return {"passed": False, "detail": f"{len(result['failed'])} check(s) failing"}
    if result.get("type_changed"):
        return {"passed": False, "detail": "a cell's type was changed"}
    return {"passed": True, "detail": "visible checks pass"}


def check(labs=None, root: Path | None = None, on_step=None) -> list[dict]:
    """Validate each started lab whose content changed since its last check; update the cache."""
    cache = _load_cache()
    todo = []
    for lab in labs or LAB_IDS:
        path = notebook_of(lab, root)
        if not path.is_file():
            continue
        digest, started = _answers(path)
        if started and cache.get(str(path), {}).get("sha256") != digest:
            todo.append((lab, path, digest))
    for i, (lab, path, digest) in enumerate(todo):
        if on_step:
            on_step(i, len(todo), lab)
        verdict = validate(path)
        cache[str(path)] = {"sha256": digest, "checked": time.strftime("%Y-%m-%d %H:%M:%S"), **verdict}
        _save_cache(cache)
    if on_step:
        on_step(len(todo), len(todo), None)
    return [lab_state(lab, root, cache) for lab in labs or LAB_IDS]


_BADGE = {NOT_STARTED: "#6e7781", IN_PROGRESS: "#9a6700", PASSING: "#1a7f37", MISSING: "#afb8c1"}


def render(rows: list[dict]) -> str:
    body = "".join(
        f'<tr class="edalab-lab" data-lab="{r["lab"]}" data-state="{r["state"]}">'
        f"<td><code>{r['lab']}</code></td>"
        f'<td><span style="color:{_BADGE[r["state"]]};font-weight:bold">{r["state"]}</span></td>'
        f"<td>{html.escape(r['detail'])}</td></tr>" for r in rows)
    done = sum(r["state"] == PASSING for r in rows)
    present = sum(r["state"] != MISSING for r in rows)
    return (f'{TABLE_CSS}<div class="edalab-progress"><b>Your labs</b>: {done} of {present} passing their visible '
            "checks<table class='edalab-table'><tr><th>lab</th><th>state</th><th></th></tr>"
            f"{body}</table></div>")


class LabProgress(PolledBox):
    """Progress panel: re-reads the lab notebooks every ``interval`` s; the button validates."""

    def __init__(self, labs=None, root: Path | None = None, interval: float = 5.0,
                 live: bool = True, **kwargs):
        self.labs = tuple(labs or LAB_IDS)
        self.root = Path(root) if root else None
        self.table = w.HTML()
        self.check_button = w.Button(description="Check my labs", icon="check",
                                     tooltip="run the visible checks of every lab you changed")
        self.bar = w.IntProgress(min=0, max=1, value=0, layout=w.Layout(display="none"))
        self.status = w.HTML()
        self.check_button.on_click(lambda _b: self.check())
        super().__init__([self.table, w.HBox([self.check_button, self.bar, self.status])], **kwargs)
        self.add_class("edalab-progress-widget")
        self.rows: list[dict] = []
        self._checking: threading.Thread | None = None
        self.refresh()
        self.poller = Poller(self.refresh, interval)
        if live:
            self.poller.start()

    def refresh(self) -> list[dict]:
        cache = _load_cache()
        self.rows = [lab_state(lab, self.root, cache) for lab in self.labs]
        self.table.value = render(self.rows)
        return self.rows

    def check(self, wait: bool = False) -> threading.Thread:
        """Validate changed labs on a thread, with a progress bar."""

        def on_step(i, total, lab):
            self.bar.max = max(total, 1)
            self.bar.value = i
            self.status.value = (f"checking <code>{lab}</code> ({i + 1}/{total}) ..." if lab
                                 else "nothing new to check" if total == 0 else "done")

        def run():
            try:
                check(self.labs, self.root, on_step)
            except Exception as exc:
                self.status.value = f"<span style='color:#cf222e'>{html.escape(str(exc))}</span>"
            finally:
                self.bar.layout.display = "none"
                self.check_button.disabled = False
                self.refresh()

        if self._checking is not None and self._checking.is_alive():
            return self._checking
        self.check_button.disabled = True
        self.bar.layout.display = ""
        self._checking = threading.Thread(target=run, name="edalab-lab-check", daemon=True)
        self._checking.start()
        if wait:
            self._checking.join()
        return self._checking

    def __repr__(self) -> str:
        return "Labs: " + ", ".join(f"{r['lab']} {r['state']}" for r in self.rows)

