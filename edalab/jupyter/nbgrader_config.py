"""nbgrader, learner side: one person working through the labs on their own machine.

The course's exchange root and course id come from the instructor config
(``graders/nbgrader_config.py``) so both sides always agree. A learner fetches into
``labs/`` (the learner copies; a lab already there shows as fetched and opens in place).
``EDALAB_LABS_DIR`` and ``EDALAB_EXCHANGE`` point both elsewhere (the browser tests use them
for a scratch copy of the course).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

REPO = Path(__file__).resolve().parents[2]
load_subconfig(str(REPO / "graders" / "nbgrader_config.py"))  # noqa: F821 - traitlets

c.Exchange.assignment_dir = os.environ.get("EDALAB_LABS_DIR") or str(REPO / "labs")
c.Exchange.path_includes_course = False  # labs/<lab>/, not labs/edalab/<lab>/
if os.environ.get("EDALAB_EXCHANGE"):
    c.Exchange.root = os.environ["EDALAB_EXCHANGE"]
# nbgrader remembers submissions in a per-user cache (~/.local/share/jupyter by default),
# shared by every course and checkout; keep this course's next to its exchange.
c.Exchange.cache = str(Path(c.Exchange.root).parent / "nbgrader_cache")
