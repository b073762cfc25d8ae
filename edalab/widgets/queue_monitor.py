"""A live view of an SQS queue: messages waiting, in flight, delayed, and in its dead-letter queue.

The deck's message lifecycle (send -> receive hides the message for the visibility timeout ->
delete) is easiest to believe when the counts move in front of you. The monitor polls
``GetQueueAttributes`` - the same approximate counts the AWS console shows - on a daemon thread
(the shared ``edalab.widgets.Poller``, which also ends a forgotten monitor after
``max_runtime``) and redraws a small chart; every reading is also kept in ``history``, so a notebook can assert
on what the learner just watched.

It works without a browser (nbclient, CI, plain Python): widgets are created, drawn to PNG bytes,
and nobody has to look at them. ``stop()`` (or leaving a ``with`` block) joins the thread.

    from edalab.widgets.queue_monitor import QueueMonitor
    mon = QueueMonitor(queue_url, dlq_url=dlq_url).start()
    mon                 # shows the chart in JupyterLab
    ...
    mon.stop()
"""

from __future__ import annotations

import io
import threading
import time
import weakref
from dataclasses import dataclass

COUNT_ATTRIBUTES = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}
SERIES = ("visible", "in_flight", "delayed", "dlq")
COLOURS = {"visible": "#1f77b4", "in_flight": "#ff7f0e", "delayed": "#7f7f7f", "dlq": "#d62728"}
LABELS = {"visible": "visible", "in_flight": "in flight", "delayed": "delayed", "dlq": "DLQ"}

_running: "weakref.WeakSet[QueueMonitor]" = weakref.WeakSet()


@dataclass(frozen=True)
class Reading:
    """One sample of the queue's counts; ``t`` is seconds since the monitor was created."""

    t: float
    visible: int
    in_flight: int
    delayed: int
    dlq: int | None = None


class QueueMonitor:
    """Polls one queue (and optionally its dead-letter queue) and charts the counts over time."""

    def __init__(self, queue_url: str, dlq_url: str | None = None, *, sqs=None,
                 interval: float = 0.5, window: int = 240, title: str | None = None,
                 max_runtime: float | None = 1800.0):
        if not isinstance(queue_url, str) or "/" not in queue_url:
            raise ValueError(f"QueueMonitor needs a queue URL (from create_queue or get_queue_url), "
                             f"got {queue_url!r}.")
        if interval <= 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}.")
        if sqs is None:
            from edalab import client

            sqs = client("sqs")
        self.sqs = sqs
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.interval = float(interval)
        self.window = int(window)
        self.max_runtime = max_runtime
        self.title = title or queue_url.rsplit("/", 1)[-1]
        self.history: list[Reading] = []
        self.error: str | None = None
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._poller = None
        self._widget = None

    # -- readings -------------------------------------------------------------------------
    def _counts(self, url: str) -> dict:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(COUNT_ATTRIBUTES.values()))
        return {k: int(attrs["Attributes"].get(a, 0)) for k, a in COUNT_ATTRIBUTES.items()}

    def sample(self) -> Reading:
        """Take one reading now (also what the background thread calls), redraw, return it."""
        counts = self._counts(self.queue_url)
        dlq = None
        if self.dlq_url:
            dlq = sum(self._counts(self.dlq_url).values())
        reading = Reading(round(time.monotonic() - self._t0, 2), dlq=dlq, **counts)
        with self._lock:
            self.history.append(reading)
            del self.history[:-self.window]
        self._redraw()
        return reading

    @property
    def latest(self) -> Reading | None:
        with self._lock:
            return self.history[-1] if self.history else None

    def max_seen(self, series: str) -> int:
        """Largest value of ``series`` (visible / in_flight / delayed / dlq) in the history."""
        if series not in SERIES:
            raise ValueError(f"series must be one of {', '.join(SERIES)}, got {series!r}.")
        with self._lock:
            return max((getattr(r, series) or 0 for r in self.history), default=0)

    # -- background polling ---------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._poller is not None and self._poller.running

    def start(self) -> "QueueMonitor":
        """Take a first reading now, then keep polling every ``interval`` seconds."""
        from edalab.widgets import Poller

        if self.running:
            return self
        self._tick()
        self._poller = Poller(self._tick, self.interval, max_runtime=self.max_runtime)
        self._poller.start()
        _running.add(self)
        return self

    def _tick(self) -> None:
        try:
            self.sample()
            self.error = None
        except Exception as exc:  # the queue was deleted, the stack went down...
            self.error = f"{type(exc).__name__}: {exc}"
            self._redraw()

    def stop(self) -> "QueueMonitor":
        """Stop polling and wait for the thread; safe to call twice or before start()."""
        if self._poller is not None:
            self._poller.stop(timeout=max(5.0, 3 * self.interval))
        _running.discard(self)
        self._redraw()
        return self

    @staticmethod
    def stop_all() -> int:
        """Stop every monitor still running in this kernel (for a notebook's clean-up cell)."""
        monitors = list(_running)
        for mon in monitors:
            mon.stop()
        return len(monitors)

    def __enter__(self) -> "QueueMonitor":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- display --------------------------------------------------------------------------
    def png(self) -> bytes:
        """The chart as PNG bytes. A pyplot-free Figure, because it is drawn from a thread."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        with self._lock:
            history = list(self.history)
        fig = Figure(figsize=(6.4, 2.4), dpi=80)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        times = [r.t for r in history]
        for series in SERIES:
            values = [getattr(r, series) for r in history]
            if series == "dlq" and all(v is None for v in values):
                continue
            ax.step(times, [v or 0 for v in values], where="post", label=LABELS[series],
                    color=COLOURS[series])
        ax.set_xlabel("seconds")
        ax.set_ylabel("messages")
        ax.set_title(self.title, fontsize=10)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", fontsize=8, ncols=4)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def summary(self) -> str:
        r = self.latest
        state = "polling" if self.running else "stopped"
        if r is None:
            text = f"{self.title}: no reading yet ({state})"
        else:
            dlq = "" if r.dlq is None else f" | DLQ {r.dlq}"
            text = (f"{self.title}: visible {r.visible} | in flight {r.in_flight} | "
                    f"delayed {r.delayed}{dlq}  ({state}, t={r.t:.1f}s)")
        return text + (f" - {self.error}" if self.error else "")

    @property
    def widget(self):
        """An ipywidgets box (label + chart) that the thread keeps up to date."""
        if self._widget is None:
            import ipywidgets as w

            self._label = w.HTML()
            self._image = w.Image(format="png")
            self._widget = w.VBox([self._label, self._image])
            self._redraw()
        return self._widget

    def _redraw(self) -> None:
        if self._widget is None:
            return
        import html

        self._label.value = f"<code>{html.escape(self.summary())}</code>"
        self._image.value = self.png()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"<QueueMonitor {self.summary()}>"
