"""JupyterLab set up for a self-paced learner on one machine.

``make lab`` puts this folder on ``JUPYTER_CONFIG_PATH``. Jupyter then reads:

* ``nbgrader_config.py`` - the learner side of nbgrader: the course's exchange (in the state
  folder ``.edalab/``, as in ``graders/nbgrader_config.py``) and ``labs/`` as the folder
  assignments are fetched into, so the Assignments tab lists each lab and opens the copy the
  learner works on;
* ``jupyter_server_config.json`` - enables this module as a server extension, which publishes
  the learner copies in ``labs/`` to the exchange at start-up (what an instructor's
  ``nbgrader release_assignment`` does in a classroom);
* ``labconfig/page_config.json`` - hides the instructor-only nbgrader panels (formgrader,
  create assignment, course list), which a learner cannot use without a gradebook.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def nbgrader_config():
    """The nbgrader config a Jupyter server started from ``make lab`` sees (the same search
    nbgrader's own lab-extension handlers do)."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader

    paths = jupyter_config_path()
    paths.insert(0, os.getcwd())
    app = NbGrader()
    app.config_file_paths.append(paths)
    app.load_config_file()
    return app.config


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=[".ipynb_checkpoints", "__pycache__"])
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def publish_labs(labs_dir: Path, exchange_root: Path, course_id: str) -> list[str]:
    """Copy each ``labs/<lab>/`` into ``<exchange>/<course>/outbound/<lab>/``; returns the
    labs (re)published.

    A plain copy, not ``nbgrader release_assignment``: that command needs the instructor's
    gradebook and ``graders/release/``, which a learner's checkout need not have; the
    outbound folder layout is all that nbgrader's list and fetch read.
    """
    outbound = exchange_root / course_id / "outbound"
    published = []
    for lab in sorted(p for p in labs_dir.iterdir() if (p / f"{p.name}.ipynb").is_file()) \
            if labs_dir.is_dir() else []:
        dest = outbound / lab.name
        if dest.is_dir() and _same_tree(lab, dest):
            continue
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(lab, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        published.append(lab.name)
    return published


def _jupyter_server_extension_points():
    return [{"module": "edalab.jupyter"}]


def _load_jupyter_server_extension(serverapp) -> None:
    try:
        config = nbgrader_config()
        root = Path(config.Exchange.root)
        course = config.CourseDirectory.course_id
        labs = Path(config.Exchange.assignment_dir)
        if not labs.is_absolute():
            labs = Path(serverapp.root_dir) / labs
        published = publish_labs(labs, root, course)
        serverapp.log.info("edalab: %d lab(s) in the exchange %s (%d updated)",
                           len(list((root / course / "outbound").glob("*"))), root, len(published))
    except Exception as exc:  # the workbook must open even if the exchange cannot be set up
        serverapp.log.warning("edalab: could not publish the labs to the nbgrader exchange: %s", exc)
