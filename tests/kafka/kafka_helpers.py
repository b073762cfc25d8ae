"""Client helpers shared by the broker conformance tests (plain functions, no fixtures)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer

# Short group timeouts: a consumer that leaves or joins is noticed in well under a second,
# so rebalance tests take a second or two instead of Kafka's default 45 s session.
GROUP_TIMEOUTS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 300}
WAIT = 30.0  # upper bound for anything to happen; only ever reached when a test fails


def wait_for(predicate, what: str, timeout: float = WAIT, step=None):
    """Poll ``predicate`` (calling ``step`` between tries) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        if step:
            step()
        else:
            time.sleep(0.05)


def consume(c: Consumer, count: int, timeout: float = WAIT) -> list:
    """Poll until ``count`` messages arrived (errors fail the test); returns the messages."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"got {len(got)} of {count} messages within {timeout:.0f} s")
        msg = c.poll(0.2)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        got.append(msg)
    return got


def produce_all(p: Producer, topic: str, records) -> list:
    """Produce ``(key, value)`` pairs and flush; returns the delivery reports, in delivery
    order (per partition, not send order), as ``(key, value, partition, offset)``."""
    reports = []

    def on_delivery(err, msg):
        assert err is None, err
        reports.append((msg.key(), msg.value(), msg.partition(), msg.offset()))

    for key, value in records:
        p.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert p.flush(WAIT) == 0, "messages still queued after flush"
    return reports

