"""Self-checks for the notebooks' exercises.

An exercise cell starts with the answer set to ``TODO`` (``...``). The notebook still runs
top to bottom in CI, so an untouched exercise must not fail; an attempted one must say
clearly whether it is right, and if not, what to look at. ``selfcheck`` does both: it reports
"not attempted yet" for the placeholder and otherwise runs the exercise's check, turning a
failed assert into one line naming the hint.
"""

from __future__ import annotations

from collections.abc import Callable

TODO = ...  # the placeholder every exercise answer starts as


class NotYet(AssertionError):
    """An attempted answer that is not right yet; the message is the hint."""


def attempted(*answers) -> bool:
    return all(a is not TODO for a in answers)


def selfcheck(check: Callable, *answers, name: str = "Exercise") -> bool:
    """Run ``check(*answers)``: True when it passes, False when not attempted, NotYet otherwise.

    ``check`` is a plain function of asserts whose messages are the hints.
    """
    if not attempted(*answers):
        print(f"{name}: not attempted yet. Replace the ... above with your answer and re-run.")
        return False
    try:
        check(*answers)
    except AssertionError as exc:
        raise NotYet(f"{name}: not yet. {exc}") from None
    print(f"{name}: correct.")
    return True
