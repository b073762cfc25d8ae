"""The learner's feedback tools: the quiz widget and the exercise self-checks.

A self-paced learner has no teacher to ask, so these must be right: a right answer is
accepted, a wrong one is refused *with the reason*, and an untouched exercise does not fail
the notebook. Real ipywidgets objects, driven the way a click drives them; no browser.
"""

from __future__ import annotations

import pytest

from edalab.selfcheck import TODO, NotYet, selfcheck
from edalab.widgets.quiz import RIGHT, UNANSWERED, WRONG, Quiz

QUESTIONS = [
    {"q": "Which one is a command?", "options": ["OrderPlaced", "ReserveStock"], "answer": 1,
     "why": "A command asks one target to do something.",
     "wrong": {0: "OrderPlaced reports a fact: an event."}},
    {"q": "SQS's default visibility timeout?", "options": ["0 s", "30 s", "12 h"], "answer": 1,
     "why": "30 seconds unless the queue sets another."},
]


def test_quiz_accepts_the_right_answer():
    quiz = Quiz(QUESTIONS)
    assert quiz.answer(1, "ReserveStock") == RIGHT
    assert quiz.questions[0].explanation().startswith("Right.")
    assert "asks one target" in quiz.questions[0].explanation()
    assert "1 of 2 right" in quiz.score.value


def test_quiz_explains_a_wrong_answer():
    quiz = Quiz(QUESTIONS)
    assert quiz.answer(1, 0) == WRONG
    text = quiz.questions[0].explanation()
    assert text.startswith("Not quite.")
    assert "OrderPlaced reports a fact" in text and "asks one target" in text   # why wrong, then why right
    assert quiz.answer(2, "12 h") == WRONG and "30 seconds" in quiz.questions[1].explanation()
    assert quiz.right_count() == 0


def test_check_without_a_choice_asks_for_one():
    quiz = Quiz(QUESTIONS)
    quiz.questions[0].button.click()
    assert quiz.questions[0].state == UNANSWERED and "Pick an answer" in quiz.questions[0].explanation()


def test_self_test_resets_and_catches_inconsistent_data():
    quiz = Quiz(QUESTIONS)
    quiz.self_test()
    assert all(q.state == UNANSWERED and q.choices.value is None for q in quiz.questions)
    with pytest.raises(ValueError):
        Quiz([{"q": "x", "options": ["a"], "answer": 3, "why": "y"}])
    with pytest.raises(ValueError):
        Quiz([{"q": "x", "options": ["a"], "answer": 0}])


def _check(answer):
    assert answer == {"RefundIssued": "event"}, "RefundIssued states a fact: it is an event"


def test_selfcheck_placeholder_is_not_attempted(capsys):
    assert selfcheck(_check, TODO, name="Exercise 1") is False
    assert "not attempted" in capsys.readouterr().out


def test_selfcheck_accepts_right_and_explains_wrong(capsys):
    assert selfcheck(_check, {"RefundIssued": "event"}) is True
    assert "correct" in capsys.readouterr().out
    with pytest.raises(NotYet, match="it is an event"):
        selfcheck(_check, {"RefundIssued": "command"})
