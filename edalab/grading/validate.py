"""``edalab validate NOTEBOOK``: nbgrader's validator with an exit code that means something.

``nbgrader validate`` prints VALIDATION FAILED and still exits 0, so neither CI nor a
learner's script can rely on it.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.validator import Validator

from .course import Course, GradingError

PROBLEMS = ("type_changed", "changed", "failed")


class _Validator(Validator):
    results: dict = {}

    def validate(self, filename):
        self.results = super().validate(filename)
        return self.results


def validate(notebook: str | Path, course: Course | None = None) -> bool:
    """Print nbgrader's validation report for ``notebook``; True when it passed."""
    path = Path(notebook)
    if not path.is_file():
        raise GradingError(f"No notebook at {path}: give the path of a lab's .ipynb.")
    try:
        config = (course or Course.at()).config()
    except GradingError:
        config = None
    validator = _Validator(config=config) if config is not None else _Validator()
    try:
        validator.validate_and_print(str(path.resolve()))
    except Exception as exc:  # unreadable JSON, missing kernel, ...
        raise GradingError(f"{path} could not be validated: {type(exc).__name__}: {exc}") from None
    return not any(validator.results.get(key) for key in PROBLEMS)
