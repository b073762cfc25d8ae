"""Trace view: who published each message, who consumed it, grouped by correlation id.

Tracing one business action across services is EDA's first gotcha; this view makes the
correlation and causation ids visible. Feed it records as they happen::

    trace = TraceView()
    trace                                        # show it
    trace.published("orders", "OrderPlaced", message_id="m1", correlation_id="order-42")
    trace.consumed("payments", message_id="m1")
    trace.published("payments", "PaymentTaken", message_id="m2",
                    correlation_id="order-42", causation_id="m1")

or let it pull from anything that yields records (an SQS queue, a Kafka topic, a list) with
``trace.follow(fetch, interval)`` - ``fetch()`` returns an iterable of dicts with the
``record()`` keywords - until ``stop()``.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field

import ipywidgets as w

from . import TABLE_CSS, Poller
from .polled import PolledBox


@dataclass
class Message:
    message_id: str
    message_type: str
    publisher: str | None
    correlation_id: str | None
    causation_id: str | None
    published_at: float
    consumers: list[str] = field(default_factory=list)


class TraceView(PolledBox):
    """A live table of messages by correlation id; ``to_mermaid()`` gives a sequence diagram."""

    def __init__(self, title: str = "Event flow", max_messages: int = 200, **kwargs):
        self.title = title
        self.max_messages = max_messages
        self.table = w.HTML()
        super().__init__([self.table], **kwargs)
        self.add_class("edalab-trace-view")
        self.messages: dict[str, Message] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self.poller: Poller | None = None
        self._redraw()

    # -- feeding ----------------------------------------------------------------------------
    def published(self, service: str, message_type: str, message_id: str | None = None,
                  correlation_id: str | None = None, causation_id: str | None = None) -> str:
        """Record that ``service`` published a message; returns its id (made up if not given)."""
        if not service or not message_type:
            raise ValueError("published() needs the publishing service and the message type, "
                             "e.g. published('orders', 'OrderPlaced', correlation_id='order-42')")
        with self._lock:
            self._counter += 1
            mid = message_id or f"msg-{self._counter}"
            known = self.messages.get(mid)
            if known is None:
                self.messages[mid] = Message(mid, message_type, service, correlation_id,
                                             causation_id, time.time())
            else:  # consumed before we saw it published (records can arrive out of order)
                known.publisher, known.message_type = service, message_type
                known.correlation_id = known.correlation_id or correlation_id
                known.causation_id = known.causation_id or causation_id
            while len(self.messages) > self.max_messages:
                self.messages.pop(next(iter(self.messages)))
        self._redraw()
        return mid

    def consumed(self, service: str, message_id: str, message_type: str | None = None,
                 correlation_id: str | None = None) -> None:
        """Record that ``service`` received the message ``message_id``."""
        if not service or not message_id:
            raise ValueError("consumed() needs the consuming service and the message id it received")
        with self._lock:
            msg = self.messages.get(message_id)
            if msg is None:
                msg = self.messages[message_id] = Message(
                    message_id, message_type or "?", None, correlation_id, None, time.time())
            msg.consumers.append(service)
        self._redraw()

    def record(self, kind: str, service: str, **fields) -> None:
        """``record("published"|"consumed", service, **fields)``: one entry from a feed."""
        if kind == "published":
            self.published(service, **fields)
        elif kind == "consumed":
            self.consumed(service, **fields)
        else:
            raise ValueError(f"kind={kind!r}: use 'published' or 'consumed'")

    def follow(self, fetch, interval: float = 0.5, max_runtime: float | None = 600.0) -> None:
        """Poll ``fetch()`` on a thread; each returned dict has ``kind``, ``service`` and the
        other ``record()`` keywords. ``stop()`` ends it."""

        def tick():
            for item in fetch() or ():
                item = dict(item)
                self.record(item.pop("kind"), item.pop("service"), **item)

        self.stop()
        self.poller = Poller(tick, interval, max_runtime=max_runtime)
        self.poller.start()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
        self._redraw()

    # -- reading ----------------------------------------------------------------------------
    def by_correlation(self) -> dict[str | None, list[Message]]:
        with self._lock:
            groups: dict[str | None, list[Message]] = {}
            for msg in self.messages.values():
                groups.setdefault(msg.correlation_id, []).append(msg)
            return groups

    def to_mermaid(self, correlation_id: str | None = None) -> str:
        """A mermaid sequence diagram of one correlation id (or every message)."""
        lines = ["sequenceDiagram"]
        for cid, msgs in self.by_correlation().items():
            if correlation_id is not None and cid != correlation_id:
                continue
            for msg in msgs:
                for consumer in msg.consumers or ["(nobody yet)"]:
                    lines.append(f"    {_ident(msg.publisher or '?')}->>{_ident(consumer)}: "
                                 f"{msg.message_type}")
        return "\n".join(lines)

    def _redraw(self) -> None:
        groups = self.by_correlation()
        rows = []
        for cid, msgs in groups.items():
            rows.append(f'<tr class="edalab-trace-group"><td colspan="5"><b>correlation id</b> '
                        f"<code>{html.escape(str(cid))}</code> ({len(msgs)} message(s))</td></tr>")
            for m in msgs:
                rows.append(
                    f'<tr class="edalab-trace-message" data-message-id="{html.escape(m.message_id)}">'
                    f"<td>{time.strftime('%H:%M:%S', time.localtime(m.published_at))}</td>"
                    f"<td><b>{html.escape(m.message_type)}</b> <code>{html.escape(m.message_id)}</code></td>"
                    f"<td>{html.escape(m.publisher or '?')}</td>"
                    f"<td>{html.escape(', '.join(m.consumers) or '-')}</td>"
                    f"<td><code>{html.escape(m.causation_id or '')}</code></td></tr>")
        self.table.value = (
            f'{TABLE_CSS}<div class="edalab-trace" data-messages="{sum(len(v) for v in groups.values())}">'
            f"<b>{html.escape(self.title)}</b><table class='edalab-table'>"
            "<tr><th>time</th><th>message</th><th>published by</th><th>consumed by</th>"
            f"<th>caused by</th></tr>{''.join(rows)}</table></div>")

    def __repr__(self) -> str:
        n = len(self.messages)
        return f"TraceView({n} message(s), {len(self.by_correlation())} correlation id(s))"


def _ident(name: str) -> str:
    """Mermaid participant names may not hold spaces or punctuation."""
    return "".join(ch if ch.isalnum() else "_" for ch in name) or "_"
