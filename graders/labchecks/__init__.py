"""Check helpers that the labs' visible and hidden tests call.

They inspect notebook values and the learner's resources in the emulator, and raise
`LabCheckError` with a message that says what is wrong and how to fix it: a learner who
presses Validate must never be left with a bare AssertionError.
"""


class LabCheckError(AssertionError):
    """A failed lab check whose message tells the learner what to fix."""


def check(condition, message):
    """Fail with `message` (what is wrong, then how to fix it) unless `condition` holds."""
    if not condition:
        raise LabCheckError(message)
