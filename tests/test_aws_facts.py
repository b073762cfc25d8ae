"""docs/aws-facts.md is the one table of AWS facts the course uses; when AWS changes a limit
it must name every cell to update, so a row that points at a cell which no longer exists
(renamed, deleted) makes it lie. Every row must also carry a source or say it has none."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "docs" / "aws-facts.md"
CELL_REF = re.compile(r"`([\w.-]+\.ipynb):([\w-]+)`")


def notebook_path(name: str) -> Path:
    course = ROOT / "notebooks" / name
    if course.exists():
        return course
    return ROOT / "graders" / "source" / name.removesuffix(".ipynb") / name


def rows():
    for line in FACTS.read_text().splitlines():
        if re.match(r"\| \d+ \|", line):
            yield [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def test_every_row_names_existing_cells():
    ids = {}
    checked = 0
    for number, claim, page, quote, used_in in rows():
        refs = CELL_REF.findall(used_in)
        assert refs, f"row {number} ({claim}) names no cell"
        for name, cell_id in refs:
            if name not in ids:
                path = notebook_path(name)
                assert path.exists(), f"row {number}: no notebook {name}"
                ids[name] = {c.id for c in nbformat.read(path, as_version=4).cells}
            assert cell_id in ids[name], f"row {number}: {name} has no cell {cell_id!r}"
            checked += 1
    assert checked > 50


def test_every_row_has_a_source_or_says_it_has_none():
    numbers = []
    for number, claim, page, quote, used_in in rows():
        numbers.append(int(number))
        if "quote not found" in quote:
            continue
        assert page.startswith("https://"), f"row {number}: no AWS page"
        assert quote.startswith('"') and quote.endswith('"'), f"row {number}: quote not quoted"
    assert numbers == list(range(1, len(numbers) + 1)), "rows are numbered 1..n"
