"""A live view of one topic as one consumer group sees it: for every partition, the log's end
(high watermark), the group's committed offset, the lag between them, and which group member
owns the partition right now; plus the total lag over time.

It asks the broker (Kafka's admin API), not the learner's consumers, so it shows what any
operator's tool would: a rebalance appears as partitions changing owner, a slow consumer as a
growing lag. ``partition_table()`` is the same data without a widget.
"""

from __future__ import annotations

import html
import time

import ipywidgets as w

from . import Poller


def _admin(conf: dict | None):
    from confluent_kafka.admin import AdminClient

    from ..clients import kafka_config

    return AdminClient(conf or kafka_config())


def partition_table(topic: str, group: str, conf: dict | None = None, admin=None,
                    timeout: float = 5.0) -> list[dict]:
    """One row per partition of ``topic``: ``partition``, ``start`` / ``end`` (log start and
    high watermark), ``committed`` (None if the group never committed there), ``lag``
    (end - committed; the whole log if nothing is committed) and ``owner`` (the member's
    client.id, or None when no member of ``group`` is assigned the partition).

    ``topic`` and ``group`` are used as given: pass ``edalab.topic(...)`` names.
    """
    from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    admin = admin or _admin(conf)
    meta = admin.list_topics(topic, timeout=timeout).topics.get(topic)
    if meta is None or meta.error is not None:
        raise ValueError(f"Topic {topic!r} does not exist on the broker: create it first "
                         "(AdminClient.create_topics) or check the name (edalab.topic(...)).")
    parts = sorted(meta.partitions)
    ends, starts = {}, {}
    for spec, into in ((OffsetSpec.latest(), ends), (OffsetSpec.earliest(), starts)):
        futures = admin.list_offsets({TopicPartition(topic, p): spec for p in parts},
                                     request_timeout=timeout)
        for tp, fut in futures.items():
            into[tp.partition] = fut.result().offset
    committed: dict[int, int] = {}
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in parts])
    try:
        result = admin.list_consumer_group_offsets([request])[group].result(timeout)
        committed = {tp.partition: tp.offset for tp in result.topic_partitions
                     if tp.topic == topic and tp.offset >= 0}
    except KafkaException:
        committed = {}  # a group that never committed is not an error for a view
    owners: dict[int, str] = {}
    try:
        described = admin.describe_consumer_groups([group])[group].result(timeout)
        for member in described.members:
            for tp in (member.assignment.topic_partitions if member.assignment else []):
                if tp.topic == topic:
                    owners[tp.partition] = member.client_id or member.member_id
    except KafkaException:
        owners = {}
    rows = []
    for p in parts:
        base = committed.get(p, starts.get(p, 0))
        rows.append({"partition": p, "start": starts.get(p, 0), "end": ends.get(p, 0),
                     "committed": committed.get(p), "lag": max(ends.get(p, 0) - base, 0),
                     "owner": owners.get(p)})
    return rows


def total_lag(rows: list[dict]) -> int:
    return sum(row["lag"] for row in rows)


_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


class KafkaView(w.VBox):
    """``KafkaView(edalab.topic("orders"), edalab.topic("shop"))``; ``.start()`` refreshes it
    every ``interval`` seconds in the background, ``.stop()`` ends that, ``.refresh()`` once.

    ``.rows`` holds the last table, ``.history`` ``(seconds since start, total lag)`` samples
    (plot them with matplotlib), ``.owners()`` the partitions each member owns.
    """

    def __init__(self, topic: str, group: str, conf: dict | None = None, interval: float = 0.5):
        self.topic, self.group, self.interval = topic, group, interval
        self._admin = _admin(conf)
        self.rows: list[dict] = []
        self.history: list[tuple[float, int]] = []
        self._t0 = time.monotonic()
        self._title = w.HTML()
        self._table = w.HTML()
        self._chart = w.HTML()
        self._poller = Poller(self.refresh, interval)
        super().__init__([self._title, self._table, self._chart])
        self.refresh()

    # -- data ----------------------------------------------------------------------------
    def refresh(self) -> list[dict]:
        self.rows = partition_table(self.topic, self.group, admin=self._admin)
        self.history.append((round(time.monotonic() - self._t0, 2), total_lag(self.rows)))
        self._render()
        return self.rows

    def owners(self) -> dict[str, list[int]]:
        """{member client.id: [partitions]} from the last refresh."""
        out: dict[str, list[int]] = {}
        for row in self.rows:
            if row["owner"]:
                out.setdefault(row["owner"], []).append(row["partition"])
        return out

    def start(self) -> "KafkaView":
        self._poller.start()
        return self

    def stop(self) -> None:
        self._poller.stop()

    # -- drawing -------------------------------------------------------------------------
    def _render(self) -> None:
        members = sorted(self.owners())
        colour = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(members)}
        self._title.value = (f"<b>{html.escape(self.topic)}</b> &middot; group "
                             f"<code>{html.escape(self.group)}</code> &middot; total lag "
                             f"<b>{total_lag(self.rows)}</b>")
        cells = []
        for row in self.rows:
            owner = row["owner"]
            badge = (f'<span style="color:white;background:{colour[owner]};padding:0 6px;'
                     f'border-radius:3px">{html.escape(owner)}</span>' if owner else "<i>unassigned</i>")
            committed = "-" if row["committed"] is None else row["committed"]
            cells.append(f"<tr><td>{row['partition']}</td><td>{row['end']}</td><td>{committed}</td>"
                         f"<td>{row['lag']}</td><td>{badge}</td></tr>")
        self._table.value = ("<table><tr><th>partition</th><th>log end</th><th>committed</th>"
                             "<th>lag</th><th>owner</th></tr>" + "".join(cells) + "</table>")
        self._chart.value = self._sparkline()

    def _sparkline(self, width: int = 320, height: int = 60) -> str:
        """Total lag over time as an inline SVG polyline: a chart library would need a
        figure redraw per tick from a background thread; this is one string."""
        points = self.history[-120:]
        if len(points) < 2:
            return ""
        t0, t1 = points[0][0], points[-1][0] or 1
        top = max(lag for _, lag in points) or 1
        span = (t1 - t0) or 1
        coords = " ".join(f"{(t - t0) / span * width:.1f},{height - lag / top * (height - 4) - 2:.1f}"
                          for t, lag in points)
        return (f'<svg width="{width}" height="{height}" style="border:1px solid #ddd">'
                f'<polyline fill="none" stroke="#d62728" stroke-width="2" points="{coords}"/>'
                f"</svg><div style='font-size:smaller'>total lag, last {len(points)} samples "
                f"(max {top})</div>")


__all__ = ["KafkaView", "partition_table", "total_lag"]
