"""Feedback pages built from the verdicts and the learner's own cells, never from test code.

nbgrader's feedback shows every test cell as graded, hidden tests included (upstream issue
#917: by design there). Here a page holds only what the learner may see:

* the checker's verdict on each test cell: its points, and when it failed the error's name
  and message (``LabCheckError: <what to fix>``) - never the test cell's code, visible or
  hidden, and never a traceback (a traceback quotes the failing line);
* the learner's own cells as submitted, with their text outputs (stream text and
  ``text/plain``; errors cut to name and message; images, HTML and scripts are replaced by a
  note: a picture or a script can carry text no scan can read);
* the lab's own markdown.

Before a page is kept, it is searched for hidden-test text in every encoding ``leaks`` knows
(outputs and verdicts against every fingerprint; the learner's sources, written before grading,
against whole hidden lines). A page that fails is deleted and withheld - that learner's page
only: the rest of the class still gets theirs, and released.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

from .collect import timestamp
from .course import Course, GradingError, checked
from .leaks import Fingerprints, TooLarge, find_leaks, without_hidden

TEST_SOURCE = "# Test cell: its code is not part of the feedback; the result is below."
KEEP_METADATA = ("kernelspec", "language_info")


def is_test_cell(cell) -> bool:
    """An autograded test cell (nbgrader ``grade`` without ``solution``: not an answer cell)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _verdict(output) -> NotebookNode:
    ename, evalue = str(output.get("ename", "")), str(output.get("evalue", ""))
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}".strip().rstrip(":")])


def _learner_output(output) -> NotebookNode:
    kind = output.get("output_type")
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=output.get("name", "stdout"), text=output.get("text", ""))
    if kind == "error":
        return _verdict(output)
    data = output.get("data", {})
    if "text/plain" in data:
        text = data["text/plain"]
        other = sorted(set(data) - {"text/plain"})
        if other:
            text += f"\n[{', '.join(other)} output not shown in feedback]"
    else:
        text = f"[{', '.join(sorted(data)) or kind} output not shown in feedback]"
    if kind == "execute_result":
        return nbformat.v4.new_output("execute_result", data={"text/plain": text},
                                      execution_count=output.get("execution_count"))
    return nbformat.v4.new_output("display_data", data={"text/plain": text})


def page_notebook(nb) -> NotebookNode:
    """Reduce a graded notebook, in place, to what its feedback page may show."""
    nb.metadata = NotebookNode({k: nb.metadata[k] for k in KEEP_METADATA if k in nb.metadata})
    for cell in nb.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        cell.metadata = NotebookNode({"nbgrader": grading} if grading else {})
        cell.pop("attachments", None)
        # A region between the hidden-test markers is never shown, whatever cell holds it
        # (a cell whose nbgrader metadata was stripped is no longer a test cell).
        cell.source = without_hidden(cell.source)
        if cell.cell_type != "code":
            continue
        if is_test_cell(cell):
            cell.source = TEST_SOURCE
            cell.outputs = [_verdict(o) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        else:
            cell.outputs = [_learner_output(o) for o in cell.get("outputs", [])]
    return nb


class FeedbackPage(Preprocessor):
    """nbgrader preprocessor: ``page_notebook`` on the notebook being rendered."""

    enabled = Bool(True).tag(config=True)  # nbconvert's default is off

    def preprocess(self, nb, resources):
        return page_notebook(nb), resources


def hidden_fingerprints(course: Course, lab: str) -> Fingerprints:
    """Fingerprints of the hidden-test lines in the lab's source notebooks."""
    sources = [cell.source for path in sorted((course.source / lab).glob("*.ipynb"))
               for cell in nbformat.read(path, as_version=4).cells]
    return Fingerprints.of_sources(sources)


def hidden_lines(course: Course, lab: str) -> set[str]:
    """Non-trivial lines inside the hidden-test regions of the lab's source notebooks."""
    return hidden_fingerprints(course, lab).lines


def _page_texts(nb) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(text, where)] made at grading time, [(text, where)] written before it) of a page."""
    made, written = [], [(json.dumps(nb.metadata, ensure_ascii=False), "notebook metadata")]
    for n, cell in enumerate(nb.cells, 1):
        where = f"cell {n}"
        if not is_test_cell(cell):
            written.append((cell.source, f"{where} source"))
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                made.append((f"{output.get('ename', '')}: {output.get('evalue', '')}", f"{where} error"))
                made.extend((line, f"{where} traceback") for line in output.get("traceback", []))
            elif output.get("output_type") == "stream":
                made.append((output.get("text", ""), f"{where} output"))
            else:
                made.extend((v if isinstance(v, str) else json.dumps(v), f"{where} output {mime}")
                            for mime, v in output.get("data", {}).items())
    # A line split over many outputs (or cells) is whole again in their concatenation.
    made.append(("\n".join(text for text, _ in made), "all outputs together"))
    return made, written


def _html_text(page: str) -> str:
    page = re.sub(r"(?is)<style\b.*?</style>", "", page)  # the template's CSS
    return htmllib.unescape(re.sub(r"<[^>]+>", "", page))


def leaks_in_page(notebook: Path, html: str, fps: Fingerprints) -> list:
    """Leaks of hidden-test text in a page: its notebook's content and the rendered HTML.

    Text made while grading (outputs, verdicts) is checked against every fingerprint; text
    the learner wrote before grading, and the page's text as rendered, against whole hidden
    lines.
    """
    nb = page_notebook(nbformat.read(notebook, as_version=4))
    made, written = _page_texts(nb)
    page = re.sub(r"(?is)<style\b.*?</style>", "", html)
    return (find_leaks(made, fps)
            or find_leaks(written + [(_html_text(page), "page text")], fps, strong_only=True))


def _leaks(html: str, lines: set[str]) -> list[str]:
    """Hidden lines a rendered page shows, in any encoding ``leaks`` knows."""
    fps = Fingerprints.of(lines)
    page = re.sub(r"(?is)<style\b.*?</style>", "", html)
    found = find_leaks([(_html_text(page), "page text"), (page, "page HTML")], fps, strong_only=True,
                       first=False)
    return sorted({leak.line for leak in found})


class Pages(list):
    """The feedback pages written (a list of paths) and, in ``withheld``, student -> why not."""

    def __init__(self, pages=(), withheld: dict | None = None):
        super().__init__(pages)
        self.withheld = dict(withheld or {})


@dataclass(frozen=True)
class _Submission:
    course: Course
    lab: str
    student: str

    @property
    def feedback(self) -> Path:
        return self.course.feedback / self.student / self.lab

    def ensure_release_files(self) -> None:
        """nbgrader's release_feedback needs timestamp.txt and submission_secret.txt.

        Exchange submissions carry both; a collect from files writes them (see ``collect``);
        for older collections they are made here from the submitted notebook.
        """
        submitted = self.course.submitted / self.student / self.lab
        for name in ("timestamp.txt", "submission_secret.txt"):
            target = self.feedback / name
            if target.is_file():
                continue
            source = submitted / name
            if source.is_file():
                target.write_text(source.read_text())
            elif name == "timestamp.txt":
                notebooks = sorted(submitted.glob("*.ipynb")) or sorted(self.feedback.glob("*.html"))
                when = notebooks[0].stat().st_mtime if notebooks else datetime.now().timestamp()
                target.write_text(timestamp(when))
            else:
                target.write_text(secrets.token_hex(64))

    def unrelease(self, course_id: str, exchange_root: str) -> None:
        """Remove this student's previously released page from the exchange, if any."""
        from nbgrader.utils import notebook_hash

        secret = self.feedback / "submission_secret.txt"
        if not secret.is_file() or not exchange_root:
            return
        for page in self.feedback.glob("*.html"):
            released = Path(exchange_root) / course_id / "feedback" / \
                f"{notebook_hash(secret=secret.read_text(), notebook_id=page.stem)}.html"
            released.unlink(missing_ok=True)


def generate_feedback(course: Course, lab: str, students: list[str] | None = None,
                      release: bool = False, say=print) -> Pages:
    """feedback/<student>/<lab>/*.html for every autograded submission (or the named ones).

    A submission nbgrader cannot render is reported through ``say`` and skipped; a page that
    fails the leak check is deleted, reported through ``say`` and listed in the result's
    ``withheld``; the others are written (and released with ``release``) all the same.
    """
    course.require_lab(lab)
    cfg = course.config(**{"GenerateFeedback.preprocessors": [GetGrades, FeedbackPage,
                                                              CSSHTMLHeaderPreprocessor]})
    api = course.api(cfg)
    names = students or sorted(p.parent.name for p in course.autograded.glob(f"*/{lab}") if p.is_dir())
    if not names:
        raise GradingError(f"No autograded submissions of {lab}: run `edalab grade autograde {lab}` first.")
    fps = hidden_fingerprints(course, lab)
    pages, withheld, kept = [], {}, []
    for student in names:
        sub = _Submission(course, lab, student)
        try:
            checked(api.generate_feedback(lab, student, force=True), f"generate_feedback {lab} {student}")
        except GradingError as exc:
            say(f"no feedback for {student}: {str(exc).splitlines()[-1]}")
            continue
        written = sorted(sub.feedback.glob("*.html"))
        reason = None
        for page in written:
            notebook = course.autograded / student / lab / f"{page.stem}.ipynb"
            try:
                found = leaks_in_page(notebook, page.read_text(), fps)
                if found:
                    reason = f"it would show hidden-test text ({found[0]})"
            except TooLarge as exc:
                reason = f"it is too large to check for hidden-test text ({exc})"
            except (OSError, ValueError) as exc:
                reason = f"it could not be checked for hidden-test text ({exc})"
            if reason:
                break
        if reason:
            sub.unrelease(cfg.CourseDirectory.get("course_id") or "edalab",
                          str(cfg.Exchange.get("root") or ""))
            for page in written:
                page.unlink()
            withheld[student] = reason
            say(f"withheld the feedback of {student}: {reason}. The page was deleted; the other "
                "pages are not affected.")
            continue
        pages += written
        kept.append(student)
    if release and kept:
        # A class collected from files never used the exchange: nbgrader refuses a missing one.
        if cfg.Exchange.get("root"):
            Path(str(cfg.Exchange.root)).mkdir(parents=True, exist_ok=True)
        for student in kept:
            _Submission(course, lab, student).ensure_release_files()
            checked(api.release_feedback(lab, student), f"release_feedback {lab} {student}")
    return Pages(pages, withheld)
