"""Learner copies: ``nbgrader generate_assignment`` for each lab, then copied into ``labs/``.

The copies are committed to git, so they must come out byte-identical on every run:
``edalab grade generate --check`` regenerates into a temporary folder and lists every file
that differs, which catches a source edited without regenerating.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

import nbformat

from .course import Course, checked

# Cell metadata that editors or kernels add and that says nothing about the lab.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime")
VOLATILE_NOTEBOOK_METADATA = ("widgets", "toc", "varInspector")


def labs_dir(course: Course) -> Path:
    """The learner copies sit next to the course folder: ``<repo>/labs`` for ``<repo>/graders``."""
    return course.root.parent / "labs"


def normalize(path: Path) -> None:
    """Rewrite a notebook without outputs or volatile metadata, as nbformat 4.5 with cell ids."""
    nb = nbformat.read(path, as_version=4)
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell["id"] = f"cell-{index:03d}"
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    nbformat.write(nb, path)


def _files(folder: Path) -> set[str]:
    ignore = {".ipynb_checkpoints", "__pycache__"}
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and not ignore.intersection(p.relative_to(folder).parts)}


def generate(course: Course, labs: list[str] | None = None, out: Path | None = None) -> list[str]:
    """Generate release copies of ``labs`` (default: all) and mirror them into ``out``."""
    labs = [course.require_lab(lab) for lab in labs] if labs else course.labs()
    out = out or labs_dir(course)
    api = course.api()
    for lab in labs:
        checked(api.generate_assignment(lab, force=True, create=True), f"generate_assignment {lab}")
        release = course.release / lab
        target = out / lab
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(release, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for nb in target.rglob("*.ipynb"):
            normalize(nb)
    return labs


def check(course: Course, labs: list[str] | None = None) -> list[str]:
    """Regenerate in a temporary copy of the course; return the files under labs/ that differ."""
    labs = [course.require_lab(lab) for lab in labs] if labs else course.labs()
    committed = labs_dir(course)
    with tempfile.TemporaryDirectory(prefix="edalab-generate-") as tmp:
        scratch = course.copy_to(Path(tmp) / course.root.name, labs)
        fresh = Path(tmp) / "labs"
        generate(scratch, labs, fresh)
        differing = []
        for lab in labs:
            new, old = fresh / lab, committed / lab
            names = _files(new) | (_files(old) if old.is_dir() else set())
            for name in sorted(names):
                a, b = new / name, old / name
                if not (a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)):
                    differing.append(f"labs/{lab}/{name}")
        return differing

