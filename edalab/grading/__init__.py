"""nbgrader wrapped for a class on one machine.

nbgrader does the bookkeeping (gradebook, exchange, checksums); this package adds what a
class needs on top: deterministic learner copies checked into git, isolated and parallel
autograding (one emulator account and Kafka namespace per learner, a scratch working
folder, resource limits), feedback without hidden tests, and a CSV export.

Modules: ``course`` (where things live, nbgrader's API), ``generate`` (learner copies),
``collect``, ``execute`` (how one submission's kernel runs), ``autograde`` (the batch),
``sandbox`` (mount namespace), ``feedback``, ``export``, ``validate``, ``cli`` (the
``edalab grade`` commands).
"""

from .course import Course, GradingError

__all__ = ["Course", "GradingError"]
