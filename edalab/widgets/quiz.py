"""A check-your-understanding quiz: multiple-choice questions answered in the notebook.

A self-paced learner has nobody to ask whether their answer is right, so every answer gets a
verdict and the reason at once (the reason for a wrong choice first, then why the right one
is right). The questions are data kept in the notebook cell, so the course text stays in the
notebook and this module holds only the mechanics. No browser is needed: ``choose`` and
``check`` drive the same widgets a click does, which is how the tests use it.

A question is a dict::

    {"q": "Which one is a command?",
     "options": ["OrderPlaced", "ReserveStock"],
     "answer": 1,                                  # index into options
     "why": "A command asks one target to do something; its name is imperative.",
     "wrong": {0: "OrderPlaced reports a fact: it is an event."}}   # optional, per option
"""

from __future__ import annotations

import html

import ipywidgets as widgets

RIGHT, WRONG, UNANSWERED = "right", "wrong", "unanswered"


class Question:
    """One question: its radio buttons, a Check button and the verdict below them."""

    def __init__(self, number: int, spec: dict):
        missing = {"q", "options", "answer", "why"} - set(spec)
        if missing:
            raise ValueError(f"question {number} lacks {sorted(missing)}")
        if not 0 <= spec["answer"] < len(spec["options"]):
            raise ValueError(f"question {number}: answer {spec['answer']} is not an option index")
        self.number, self.spec = number, spec
        self.prompt = widgets.HTML(f"<b>{number}. {html.escape(spec['q'])}</b>")
        self.choices = widgets.RadioButtons(options=list(spec["options"]), value=None,
                                            layout=widgets.Layout(width="auto"))
        self.button = widgets.Button(description="Check", button_style="info")
        self.feedback = widgets.HTML()
        self.state = UNANSWERED
        self.button.on_click(lambda _b: self.check())
        self.box = widgets.VBox([self.prompt, self.choices, widgets.HBox([self.button]), self.feedback])

    def choose(self, option: int | str) -> None:
        """Select an option by index or text (what clicking a radio button does)."""
        self.choices.value = self.spec["options"][option] if isinstance(option, int) else option

    def check(self) -> str:
        """Judge the selected option; show and return ``right``/``wrong``/``unanswered``."""
        value = self.choices.value
        if value is None:
            self.state = UNANSWERED
            self.feedback.value = "<i>Pick an answer first.</i>"
            return self.state
        picked = list(self.spec["options"]).index(value)
        why = html.escape(self.spec["why"])
        if picked == self.spec["answer"]:
            self.state = RIGHT
            self.feedback.value = f"<span style='color:#1a7f37'><b>Right.</b></span> {why}"
        else:
            self.state = WRONG
            reason = self.spec.get("wrong", {}).get(picked)
            detail = f"{html.escape(reason)} " if reason else ""
            self.feedback.value = (f"<span style='color:#cf222e'><b>Not quite.</b></span> {detail}"
                                   f"Why: {why}")
        return self.state

    def explanation(self) -> str:
        """The verdict as plain text (tests and headless runs read this)."""
        import re

        return html.unescape(re.sub(r"<[^>]+>", "", self.feedback.value))


class Quiz(widgets.VBox):
    """Check your understanding: the questions of one notebook, each judged on its own."""

    def __init__(self, questions: list[dict], title: str = "Check your understanding"):
        if not questions:
            raise ValueError("a quiz needs at least one question")
        self.questions = [Question(i, spec) for i, spec in enumerate(questions, start=1)]
        self.score = widgets.HTML()
        self.heading = widgets.HTML(f"<h4>{html.escape(title)}</h4>")
        for question in self.questions:
            question.button.on_click(lambda _b: self._update_score())
        super().__init__([self.heading, *[q.box for q in self.questions], self.score])
        self._update_score()

    def _update_score(self) -> None:
        right = sum(q.state == RIGHT for q in self.questions)
        self.score.value = f"<b>{right} of {len(self.questions)} right</b>"

    def answer(self, number: int, option: int | str) -> str:
        """Choose ``option`` for question ``number`` (1-based) and press its Check button."""
        question = self.questions[number - 1]
        question.choose(option)
        question.button.click()
        return question.state

    def right_count(self) -> int:
        return sum(q.state == RIGHT for q in self.questions)

    def self_test(self) -> None:
        """Every question accepts its own answer and explains every other option.

        The notebook's last cell runs this, so a quiz whose data is inconsistent (an answer
        index off by one, an empty explanation) fails the notebook run in CI.
        """
        for q in self.questions:
            for i, _option in enumerate(q.spec["options"]):
                self.answer(q.number, i)
                expected = RIGHT if i == q.spec["answer"] else WRONG
                assert q.state == expected, (q.number, i, q.state)
                assert q.spec["why"].strip() and "Why" in q.explanation() or expected == RIGHT
            q.choices.value = None
            q.state, q.feedback.value = UNANSWERED, ""
        self._update_score()
