"""An EventBridge pattern playground: edit a pattern and an event, see whether they match.

The answer comes from EventBridge's own ``TestEventPattern`` API (on the embedded stack, the
same matcher the rules use), so what the tester says is what a rule will do - there is no
second, hand-written matcher here to drift from AWS.

    from edalab.widgets.pattern_tester import PatternTester
    tester = PatternTester(pattern={"source": ["shop.orders"]}, event=order_placed)
    tester            # two editors and a verdict, re-checked on every edit
    tester.matches()  # the same verdict, for an assert
"""

from __future__ import annotations

import html
import json
import uuid
from datetime import datetime, timezone

# TestEventPattern needs these envelope fields; the tester fills the ones a learner leaves out.
ENVELOPE_DEFAULTS = {"version": "0", "detail-type": "", "source": "", "account": "123456789012",
                     "region": "us-east-1", "resources": [], "detail": {}}


def complete_event(event: dict) -> dict:
    """``event`` with the envelope fields TestEventPattern requires (id, time, account...)."""
    if not isinstance(event, dict):
        raise ValueError(f"An event is a JSON object, got {type(event).__name__}.")
    full = {**ENVELOPE_DEFAULTS, "id": str(uuid.uuid4()),
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    full.update(event)
    return full


class PatternTester:
    """Two JSON editors (pattern, event) and the verdict of ``events.test_event_pattern``."""

    def __init__(self, pattern: dict | str | None = None, event: dict | str | None = None, *, events=None):
        if events is None:
            from edalab import client

            events = client("events")
        self.events = events
        self.pattern_text = pattern if isinstance(pattern, str) else json.dumps(pattern or {}, indent=2)
        self.event_text = event if isinstance(event, str) else json.dumps(event or {}, indent=2)
        self.last: str = ""
        self._widget = None

    def matches(self, pattern: dict | str | None = None, event: dict | str | None = None) -> bool:
        """Does ``pattern`` match ``event`` (default: the editors' contents)? Raises ValueError
        with EventBridge's message when the pattern or event is not valid."""
        pattern_text = self.pattern_text if pattern is None else (
            pattern if isinstance(pattern, str) else json.dumps(pattern))
        event_text = self.event_text if event is None else (event if isinstance(event, str) else json.dumps(event))
        try:
            event_obj = json.loads(event_text)
        except ValueError as exc:
            raise ValueError(f"The event is not JSON: {exc}") from None
        try:
            json.loads(pattern_text)
        except ValueError as exc:
            raise ValueError(f"The pattern is not JSON: {exc}") from None
        try:
            answer = self.events.test_event_pattern(EventPattern=pattern_text,
                                                    Event=json.dumps(complete_event(event_obj)))
        except self.events.exceptions.InvalidEventPatternException as exc:
            raise ValueError(f"EventBridge refuses the pattern: {exc.response['Error']['Message']}") from None
        return bool(answer["Result"])

    def verdict(self) -> str:
        try:
            self.last = "MATCH" if self.matches() else "no match"
        except ValueError as exc:
            self.last = f"error: {exc}"
        return self.last

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as w

            layout = w.Layout(width="48%", height="220px")
            self._pattern = w.Textarea(self.pattern_text, description="pattern", layout=layout)
            self._event = w.Textarea(self.event_text, description="event", layout=layout)
            self._result = w.HTML()
            self._pattern.observe(self._on_edit, names="value")
            self._event.observe(self._on_edit, names="value")
            self._widget = w.VBox([w.HBox([self._pattern, self._event]), self._result])
            self._show()
        return self._widget

    def _on_edit(self, _change) -> None:
        self.pattern_text, self.event_text = self._pattern.value, self._event.value
        self._show()

    def _show(self) -> None:
        text = self.verdict()
        colour = {"MATCH": "green", "no match": "#b35900"}.get(text, "red")
        self._result.value = f"<b style='color:{colour}'>{html.escape(text)}</b>"

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
