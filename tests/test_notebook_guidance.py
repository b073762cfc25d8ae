"""What a self-paced learner relies on, checked in the committed notebooks.

Each notebook opens with objectives, prerequisites and an estimated time, ends with a quiz,
links each glossary term at its first use, and gives every exercise a place to work, a
self-check and a solution to reveal. The checks read the notebooks as files (no kernel);
running them top to bottom is ``test_notebooks.py``'s job, which also runs every quiz's
``self_test`` and every solution's self-check.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
COURSE = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
GLOSSARY = NOTEBOOKS_DIR / "glossary.ipynb"

# glossary anchor -> how the term is spelled in running text
TERMS = {
    "arn": r"\bARNs?\b",
    "iam-execution-role": r"\bexecution role\b",
    "boto3": r"\bboto3\b",
    "lambda": r"\bLambda\b",
    "cloudwatch-logs": r"\bCloudWatch Logs\b",
    "receipt-handle": r"\breceipt handles?\b",
    "event-source-mapping": r"\bevent source mappings?\b",
    "replication-factor": r"\breplication factor\b",
    "acks": r"\backs\b",
    "aggregate": r"\baggregates?\b",
    "process-manager": r"\bprocess managers?\b",
    "projection": r"\bprojections?\b",
    "high-watermark": r"\bhigh watermark\b",
}
# Text where a link cannot go: fenced blocks, inline code, links, HTML tags, heading lines.
_SKIP = re.compile(r"```.*?```|`[^`\n]*`|\[[^\]]*\]\([^)]*\)|<[^>\n]*>|^#[^\n]*$", re.S | re.M)


def prose_spans(text: str):
    """(start, end) of the parts of a markdown text where a term may be linked."""
    pos = 0
    for m in _SKIP.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


def first_use(text: str, pattern: str):
    for start, end in prose_spans(text):
        m = re.compile(pattern).search(text, start, end)
        if m:
            return m
    return None


def glossary_link(anchor: str, own_notebook: str) -> str:
    if anchor == "lambda" and own_notebook != "05-sqs.ipynb":
        return "05-sqs.ipynb#what-is-lambda"
    return f"glossary.ipynb#{anchor}"


def markdown_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def test_glossary_defines_every_term():
    text = "".join(c.source for c in markdown_cells(GLOSSARY))
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    assert set(TERMS) <= anchors, sorted(set(TERMS) - anchors)


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_terms_linked_at_first_use(path):
    cells = markdown_cells(path)
    for anchor, pattern in TERMS.items():
        link = re.compile(r"(glossary\.ipynb#" + anchor + r"|what-is-lambda)\)")
        for cell in cells:
            if link.search(cell.source):
                break                                  # linked here or before the first use
            m = first_use(cell.source, pattern)
            assert m is None, (f"{path.name} cell {cell.id}: first use of {m.group(0)!r} "
                               f"is not linked to the glossary ({anchor})")


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_opens_with_objectives_and_ends_with_quiz(path):
    nb = nbformat.read(path, as_version=4)
    opening = "".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    for heading in ("Learning objectives", "Prerequisites", "Estimated time"):
        assert f"**{heading}.**" in opening, f"{path.name}: no '{heading}' in the opening cells"
    last = nb.cells[-1]
    assert last.cell_type == "code" and "Quiz(QUESTIONS)" in last.source and "self_test()" in last.source
    count = last.source.count("'q': ") + last.source.count('"q": ')
    assert 5 <= count <= 8, f"{path.name}: {count} quiz questions"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_every_exercise_has_work_check_and_hidden_solution(path):
    """After each exercise: a cell to work in (answers start as TODO), a self-check, and a solution
    collapsed by default that passes the same self-check (the notebook run executes it)."""
    cells = nbformat.read(path, as_version=4).cells
    exercises = 0
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not re.search(r"\*\*(Final exercise|Exercise \w+)\.\*\*", cell.source):
            continue
        exercises += 1
        work, check, solution = cells[i + 1:i + 4]
        assert work.cell_type == "code" and "= TODO" in work.source, f"{path.name} {cell.id}: no work cell"
        assert "selfcheck(" in check.source and "def check_" in check.source, f"{path.name} {cell.id}: no self-check"
        assert solution.metadata.get("jupyter", {}).get("source_hidden") is True, \
            f"{path.name} {cell.id}: the solution is not collapsed"
        assert "assert selfcheck(" in solution.source, f"{path.name} {cell.id}: the solution is not self-checked"
    if path.name != "00-start-here.ipynb":
        assert exercises >= 2, f"{path.name}: {exercises} exercises found"


# Exercises whose check and solution need no earlier cell: (notebook, exercise key, a wrong answer,
# names the solution cell reads from earlier cells).
SELF_CONTAINED = [
    ("02-event-driven-architecture.ipynb", "nb02-ex1", ({"RefundIssued": "command"},), {}),
    ("05-sqs.ipynb", "sqs-ex6", ("A",), {}),
    ("06-sns.ipynb", "sns-ex6", (2,), {}),
    ("07-eventbridge.ipynb", "eb-ex5", ({"source": "shop.orders", "detail-type": "Scheduled Event"},), {}),
    ("08-msk-kafka.ipynb", "msk-ex1", ("BootstrapBrokerStringTls",), {"HAS_MSK_API": False}),
    ("08-msk-kafka.ipynb", "msk-ex4", (1,), {}),
    ("08-msk-kafka.ipynb", "msk-ex5", ("commit before processing",), {}),
    ("08-msk-kafka.ipynb", "msk-ex7", (False,), {}),
]


def _without_last_statement(source: str) -> str:
    import ast

    tree = ast.parse(source)
    tree.body.pop()                       # the trailing selfcheck(...) on the learner's answer
    return ast.unparse(tree)


@pytest.mark.parametrize("name,key,wrong,given", SELF_CONTAINED, ids=[k for _n, k, _w, _g in SELF_CONTAINED])
def test_self_check_explains_a_wrong_answer_and_accepts_the_solution(name, key, wrong, given, capsys):
    from edalab.selfcheck import NotYet, selfcheck

    cells = {c.id: c for c in nbformat.read(NOTEBOOKS_DIR / name, as_version=4).cells}
    ns = dict(given)
    exec(_without_last_statement(cells[f"{key}-check"].source), ns)
    (check,) = [v for k, v in ns.items() if k.startswith("check_")]
    with pytest.raises(NotYet) as wrong_answer:
        selfcheck(check, *wrong)
    assert len(str(wrong_answer.value)) > 20, "a wrong answer gets a hint, not just 'wrong'"
    ns["selfcheck"] = selfcheck
    exec(cells[f"{key}-solution"].source, ns)              # its own assert selfcheck(...) must pass
    assert "correct" in capsys.readouterr().out
