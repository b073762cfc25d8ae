"""ipywidgets the notebooks share: stack status, lab progress, event trace view, and (from their
own modules) queue monitor, Kafka view and event-stream stepper.

Widgets are imported lazily (``edalab.widgets.StackStatus`` loads ``stack_status`` on first
use) so that ``import edalab.widgets`` stays cheap and one widget module with a problem never
breaks the others.

Every live widget refreshes from a daemon thread (:class:`Poller`): the kernel stays free to
run the learner's next cell, ``stop()`` ends the thread, and a headless run (nbclient, CI)
executes the cells without a browser attached.
"""

from __future__ import annotations

import importlib
import threading
import traceback

_LAZY = {
    "StackStatus": "stack_status",
    "LabProgress": "progress",
    "TraceView": "trace_view",
    "QueueMonitor": "queue_monitor",
    "KafkaView": "kafka_view",
    "EventStepper": "stepper",
}

# Tables in the shared widgets look alike (HTML widgets carry no stylesheet of their own).
TABLE_CSS = """<style>
.edalab-table {border-collapse: collapse; margin: 4px 0;}
.edalab-table td, .edalab-table th {padding: 2px 10px; text-align: left;
  border-bottom: 1px solid var(--jp-border-color2, #ddd);}
.edalab-table code {background: var(--jp-layout-color2, #f3f3f3); padding: 1px 4px;}
.edalab-state-up {color: #1a7f37; font-weight: bold;}
.edalab-state-down {color: #cf222e; font-weight: bold;}
</style>"""

__all__ = ["Poller", "TABLE_CSS", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edalab.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class Poller:
    """Calls ``tick()`` every ``interval`` seconds on a daemon thread until stopped.

    A bare thread rather than an asyncio task: widgets also run in plain Python (tests,
    nbclient) where no event loop is ours to schedule on, and a blocking probe (a broker that
    does not answer for a second) must not freeze the kernel. ``max_runtime`` ends a poller a
    learner forgot about, so an idle notebook does not hit the stack forever.
    """

    def __init__(self, tick, interval: float, max_runtime: float | None = 3600.0):
        self._tick = tick
        self.interval = interval
        self.max_runtime = max_runtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="edalab-widget-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import time

        deadline = None if self.max_runtime is None else time.monotonic() + self.max_runtime
        while not self._stop.wait(self.interval):
            if deadline is not None and time.monotonic() > deadline:
                break
            try:
                self._tick()
                self.last_error = None
            except Exception:  # a failed refresh must not kill the widget; show it instead
                self.last_error = traceback.format_exc(limit=2)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it (a tick in progress finishes first)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
