"""Step through an event stream and watch what each view makes of it.

Event-sourced state, read models and traces are all functions of "the events so far";
seeing them change one event at a time makes that concrete in a way a printed table does
not. The widget is plain ipywidgets (a Play button linked to a slider), so it also runs
headless (notebook CI, nbgrader) where nobody clicks: `text()` gives what is on screen.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass

import ipywidgets as widgets

View = Callable[[list], object]


def _label(event) -> str:
    if hasattr(event, "name") and hasattr(event, "data"):
        return f"{event.name} {json.dumps(event.data, default=str)}"
    if isinstance(event, tuple) and event and isinstance(event[0], str):
        return f"{event[0]} {json.dumps(event[1] if len(event) > 1 else {}, default=str)}"
    return str(event)


def _render(value) -> str:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, default=str, sort_keys=True)
    return str(value)


class EventStepper:
    """``EventStepper(events, {"order": lambda seen: fold(seen)})``; display it or call text()."""

    def __init__(self, events: Sequence, views: dict[str, View], *, title: str = "events"):
        if not views:
            raise ValueError("EventStepper needs at least one view: {'name': function(events_so_far)}")
        self.events = list(events)
        self.views = dict(views)
        self.title = title
        n = len(self.events)
        self.slider = widgets.IntSlider(value=0, min=0, max=n, description="after", continuous_update=True)
        self.play = widgets.Play(value=0, min=0, max=n, interval=900, description="play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.stream_html = widgets.HTML()
        self.views_html = widgets.HTML()
        self.slider.observe(lambda _change: self._refresh(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.play, self.slider]),
            widgets.HBox([self.stream_html, self.views_html]),
        ])
        self._refresh()

    def seen(self) -> list:
        return self.events[: self.slider.value]

    def rendered(self) -> dict[str, str]:
        seen = self.seen()
        return {name: _render(view(seen)) for name, view in self.views.items()}

    def text(self) -> str:
        """What the widget shows, as plain text (for asserts and headless runs)."""
        parts = [f"{self.title}: {self.slider.value} of {len(self.events)} applied"]
        parts += [f"{name}:\n{body}" for name, body in self.rendered().items()]
        return "\n".join(parts)

    def _refresh(self) -> None:
        k = self.slider.value
        rows = []
        for i, event in enumerate(self.events, start=1):
            style = "font-weight:bold" if i == k else ("color:#999" if i > k else "")
            rows.append(f"<div style='{style}'>{i}. {html.escape(_label(event))}</div>")
        self.stream_html.value = (f"<div style='min-width:22em;margin-right:2em'><b>{html.escape(self.title)}</b>"
                                  + "".join(rows) + "</div>")
        self.views_html.value = "".join(
            f"<b>{html.escape(name)}</b><pre>{html.escape(body)}</pre>" for name, body in self.rendered().items())

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
