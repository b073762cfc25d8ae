"""A lab's checks, run by the box's supervisor in its own process: the verdicts.

Each check is a grade cell's whole source (visible self-check and hidden tests) from the
instructor's course, never from the submission. It runs in a ``LearnerNamespace``: the
names the lab's trusted *prelude* defines (setup and data cells: ``QUEUE``, ``ORDERS``, the
clients), then Python's builtins, then the learner's notebook values fetched through the
bridge as data. ``labchecks`` helpers run here and read the box's emulator and broker
directly, so whatever the learner's kernel does to its own copies changes nothing.
"""

from __future__ import annotations

import signal
import traceback

from .bridge import Bridge, BridgeError, LearnerNamespace, LearnerRaised


def strip_magics(source: str) -> str:
    """IPython magics of a test cell (``%%needs_lambda``: the box always has Lambda) are
    kernel commands, not Python: the checker drops them."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


class CheckTimeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise CheckTimeout()


class Checker:
    def __init__(self, bridge: Bridge, prelude: list[str], answers: list[str] = ()):
        self.bridge = bridge
        self.ns = LearnerNamespace(bridge, {"__name__": "__main__", "__builtins__": __builtins__})
        self.prelude_errors: list[str] = []
        for source in prelude:
            try:
                exec(compile(source, "<lab setup>", "exec"), self.ns)
            except Exception as exc:  # the lab's own setup failed: say so in every verdict
                self.prelude_errors.append(f"{type(exc).__name__}: {exc}")
        for name in answers:  # the learner's to set: a setup placeholder must not shadow it
            self.ns.pop(name, None)

    def check(self, grade_id: str, source: str, timeout: float = 300) -> dict:
        """{"passed": bool, "message": str}: the message says what is wrong and how to fix
        it, never the test's source."""
        try:
            self.bridge.install()  # fresh: the learner may have replaced or deleted it
        except Exception:
            pass
        source = strip_magics(source)
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(max(1, int(timeout)))
        try:
            exec(compile(source, f"<check {grade_id}>", "exec"), self.ns)
            return {"passed": True}
        except CheckTimeout:
            return {"passed": False, "ename": "Timeout",
                    "message": f"the check did not finish within {int(timeout)} s (does your code wait forever?)"}
        except AssertionError as exc:  # LabCheckError is one
            return {"passed": False, "ename": type(exc).__name__, "message": str(exc) or
                    "a check failed (no message)"}
        except LearnerRaised as exc:
            return {"passed": False, "ename": "LabCheckError",
                    "message": f"your code raised {exc.ename}: {exc.message}"}
        except BridgeError as exc:
            return {"passed": False, "ename": "LabCheckError", "message": str(exc)}
        except NameError as exc:
            return {"passed": False, "ename": "NameError",
                    "message": f"{exc}: run the task's cell (and the cells before it) so it is defined"}
        except Exception as exc:
            if getattr(exc, "edalab_learner", False):
                return {"passed": False, "ename": "LabCheckError",
                        "message": f"your code raised {type(exc).__name__}: {exc}"}
            where = traceback.extract_tb(exc.__traceback__)
            inside_check = any(f.filename.startswith("<check") for f in where)
            message = f"{type(exc).__name__}: {exc}"
            if self.prelude_errors and inside_check:
                message += f" (the lab's setup failed here: {self.prelude_errors[0]})"
            return {"passed": False, "ename": type(exc).__name__, "message": message}
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
