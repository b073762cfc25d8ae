"""Helpers for the broker conformance suite: real confluent-kafka clients on the test stack's
broker, closed after each test so no consumer lingers in a group and slows a rebalance."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_helpers import GROUP_TIMEOUTS, wait_for


@pytest.fixture
def admin(kafka_conf):
    return AdminClient(kafka_conf())


@pytest.fixture
def make_topic(admin, unique):
    """``make_topic("orders", partitions=3, **config)`` -> the name of a new topic, ready."""

    def make(base: str = "t", partitions: int = 3, **config) -> str:
        name = unique(base)
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                                config={k.replace("_", "."): str(v) for k, v in config.items()})])
        futures[name].result(10)
        wait_for(lambda: name in admin.list_topics(timeout=5).topics, f"topic {name} in metadata")
        return name

    return make


@pytest.fixture
def producer(kafka_conf):
    made = []

    def make(**overrides) -> Producer:
        p = Producer(kafka_conf(**overrides))
        made.append(p)
        return p

    yield make
    for p in made:
        p.flush(10)


@pytest.fixture
def consumer(kafka_conf):
    """``consumer(group_id=..., **overrides)`` -> a Consumer, closed (leaving its group) at teardown."""
    made = []

    def make(**overrides) -> Consumer:
        conf = {"auto_offset_reset": "earliest", "enable_auto_commit": False,
                **{k.replace(".", "_"): v for k, v in GROUP_TIMEOUTS.items()}, **overrides}
        c = Consumer(kafka_conf(**conf))
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close()
        except RuntimeError:  # already closed by the test
            pass
