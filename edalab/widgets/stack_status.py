"""The live "is my lab stack up?" panel of the start page.

One row per service (AWS emulator, Kafka broker) with its endpoint, up / down, and - when it
is down - the exact command that fixes it. For the embedded target a button starts the stack
from the notebook and shows each service becoming ready, since a first start takes seconds
and a silent cell looks hung.
"""

from __future__ import annotations

import html
import threading
import time
from urllib.parse import urlsplit

import ipywidgets as w

from . import TABLE_CSS, Poller
from .polled import PolledBox



def probe() -> list[dict]:
    """Ask each service of the current target a real question; one dict per service.

    Keys: ``service`` (aws / kafka), ``description``, ``endpoint``, ``up`` (bool), ``fix``
    (the command that brings it up, empty when up).
    """
    from .. import target as _target
    from ..stack import Stack, aws_healthy, kafka_healthy

    tgt = _target.current()
    if tgt.name == "embedded":
        stack = Stack()
        return [{
            "service": row["service"],
            "description": row["description"],
            "endpoint": (f"http://127.0.0.1:{row['port']}" if row["service"] == "aws"
                         else f"127.0.0.1:{row['port']}"),
            "up": row["healthy"],
            "fix": "" if row["healthy"] else "edalab up   (or: make up)",
        } for row in stack.status()]
    rows = []
    if tgt.aws_endpoint:  # local targets only: real AWS is not probed (it would cost a call)
        up = aws_healthy(urlsplit(tgt.aws_endpoint).port or 80)
        rows.append({"service": "aws", "description": "AWS emulator", "endpoint": tgt.aws_endpoint,
                     "up": up, "fix": "" if up else tgt.fix_hint()})
    if tgt.kafka_bootstrap:
        host, port = tgt.kafka_bootstrap.split(",")[0].rsplit(":", 1)
        up = kafka_healthy(int(port)) if tgt.local else _target.answers(host, int(port))
        rows.append({"service": "kafka", "description": "Kafka broker",
                     "endpoint": tgt.kafka_bootstrap, "up": up, "fix": "" if up else tgt.fix_hint()})
    return rows


def render(rows: list[dict], target_name: str, checked_at: str) -> str:
    """The status table as HTML; rows carry data-service / data-state for tests and styling."""
    body = []
    for row in rows:
        state = "up" if row["up"] else "down"
        fix = f"<code>{html.escape(row['fix'])}</code>" if row["fix"] else ""
        body.append(
            f'<tr class="edalab-service" data-service="{row["service"]}" data-state="{state}">'
            f"<td>{html.escape(row['description'])}</td><td><code>{html.escape(row['endpoint'])}</code></td>"
            f'<td class="edalab-state-{state}">{state.upper() if state == "down" else state}</td>'
            f"<td>{fix}</td></tr>")
    all_up = bool(rows) and all(r["up"] for r in rows)
    summary = ("All services are up: the labs can run." if all_up
               else "Some services are down: run the command shown (on the embedded stack the "
               "<b>Start the stack</b> button does it for you).")
    return (f'{TABLE_CSS}<div class="edalab-stack-status" data-all-up="{str(all_up).lower()}">'
            f"<b>Lab stack</b> (target <code>{html.escape(target_name)}</code>, checked {checked_at})"
            "<table class='edalab-table'><tr><th>service</th><th>endpoint</th><th>state</th><th>fix</th></tr>"
            f"{''.join(body)}</table>{summary}</div>")


class StackStatus(PolledBox):
    """Live stack status; refreshes every ``interval`` seconds until ``stop()``."""

    def __init__(self, interval: float = 3.0, live: bool = True, **kwargs):
        self.table = w.HTML()
        self.start_button = w.Button(description="Start the stack", icon="play",
                                     tooltip="edalab up: start the AWS emulator and the Kafka broker")
        self.progress = w.IntProgress(min=0, max=2, value=0, description="starting",
                                      layout=w.Layout(display="none"))
        self.messages = w.HTML()
        self.start_button.on_click(lambda _b: self.start_stack())
        super().__init__([self.table, w.HBox([self.start_button, self.progress]), self.messages], **kwargs)
        self.add_class("edalab-stack-status-widget")
        self.rows: list[dict] = []
        self._lock = threading.Lock()
        self._starting = False
        self.refresh()
        self.poller = Poller(self.refresh, interval)
        if live:
            self.poller.start()

    def refresh(self) -> list[dict]:
        """Probe the services now and redraw; returns the rows."""
        from .. import target as _target

        with self._lock:
            try:
                name = _target.current().name
                rows = probe()
            except Exception as exc:  # bad EDALAB_* settings: show the message, not a trace
                name, rows = "?", []
                self.messages.value = f"<span class='edalab-state-down'>{html.escape(str(exc))}</span>"
            self.rows = rows
            self.table.value = render(rows, name, time.strftime("%H:%M:%S"))
            embedded = name == "embedded"
            self.start_button.disabled = self._starting or not embedded or (
                bool(rows) and all(r["up"] for r in rows))
            return rows

    @property
    def all_up(self) -> bool:
        return bool(self.rows) and all(r["up"] for r in self.rows)

    def start_stack(self, wait: bool = False) -> threading.Thread:
        """Run ``edalab up`` on a thread, showing each service as it becomes ready."""
        from ..stack import Stack

        def say(msg: str) -> None:
            if "ready on" in msg:
                self.progress.value = min(self.progress.max, self.progress.value + 1)
            self.messages.value += f"<div><code>{html.escape(msg)}</code></div>"

        def run() -> None:
            t0 = time.monotonic()
            try:
                Stack().up(say=say)
                self.messages.value += f"<div>Started in {time.monotonic() - t0:.1f} s.</div>"
            except Exception as exc:
                self.messages.value += f"<div class='edalab-state-down'>{html.escape(str(exc))}</div>"
            finally:
                self._starting = False
                self.progress.layout.display = "none"
                self.refresh()

        self._starting = True
        self.start_button.disabled = True
        self.progress.value = 0
        self.progress.layout.display = ""
        self.messages.value = "<div>Starting the embedded stack ...</div>"
        thread = threading.Thread(target=run, name="edalab-stack-up", daemon=True)
        thread.start()
        if wait:
            thread.join()
        return thread

    def __repr__(self) -> str:  # what a headless run or a plain console shows
        if not self.rows:
            return "Lab stack: no services found"
        return "Lab stack: " + ", ".join(
            f"{r['description']} {'up' if r['up'] else 'DOWN (fix: ' + r['fix'] + ')'}" for r in self.rows)

