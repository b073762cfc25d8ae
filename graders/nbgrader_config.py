"""nbgrader configuration of the EDA Lab Workbook course (the course directory is this folder).

Every path is relative to this file, so the same config serves a clone anywhere and the
temporary copies the tests and `edalab grade` build. The exchange lives in the project's
state folder (`.edalab/`, git-ignored) so release/fetch/submit/collect work on one machine
without root.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

HERE = Path(__file__).resolve().parent

c.CourseDirectory.root = str(HERE)
c.CourseDirectory.course_id = "edalab"
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

c.Exchange.root = str(HERE.parent / ".edalab" / "exchange")
c.Exchange.path_includes_course = True

# Labs talk to the emulator and broker; 120 s per cell leaves room for Lambda cold starts
# and long polls while an infinite loop still ends.
c.Execute.timeout = 120
c.Execute.startup_timeout = 60
c.ExecutePreprocessor.timeout = 120

# `edalab grade autograde` only (its isolated kernel runner): a budget for a whole
# submission on top of the per-cell timeout, and the kernel's address-space cap.
c.IsolatedExecute.submission_timeout = 900
c.IsolatedExecute.memory_limit_mb = 2048

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Megabytes of printed output must not bloat the gradebook or the feedback.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
