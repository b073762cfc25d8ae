"""Lab 11's check helpers judge the broker's data: right data passes, each kind of wrong data
fails with a LabCheckError that says what to fix."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import TopicPartition

from kafka_helpers import produce_all
from labchecks import LabCheckError
from labchecks import kafka as checks

EVENTS = [("o-1001", {"n": 1}), ("o-1009", {"n": 2}), ("o-1001", {"n": 3})]


def _records(events):
    return [(key.encode(), json.dumps(event).encode()) for key, event in events]


def test_keyed_records_pass_with_java_partitioner(make_topic, producer):
    name = make_topic("lab11", partitions=3)
    produce_all(producer(partitioner="murmur2_random"), name, _records(EVENTS))
    checks.check_keyed_records(name, EVENTS)
    checks.check_topic(name, partitions=3)


def test_keyed_records_fail_with_wrong_partition_or_duplicates(make_topic, producer):
    wrong = make_topic("lab11", partitions=3)
    p = producer()
    for key, value in _records(EVENTS):  # every key forced into one partition
        p.produce(wrong, key=key, value=value, partition=2)
    assert p.flush(10) == 0
    with pytest.raises(LabCheckError, match="murmur2_random"):
        checks.check_keyed_records(wrong, EVENTS)

    twice = make_topic("lab11", partitions=3)
    produce_all(producer(partitioner="murmur2_random"), twice, _records(EVENTS) * 2)
    with pytest.raises(LabCheckError, match="holds 6 records, expected 3"):
        checks.check_keyed_records(twice, EVENTS)


def test_topic_check_names_partitions_and_config(make_topic):
    name = make_topic("lab11", partitions=2, retention_ms=1000)
    with pytest.raises(LabCheckError, match="has 2 partitions, expected 3"):
        checks.check_topic(name, partitions=3)
    with pytest.raises(LabCheckError, match="retention.ms"):
        checks.check_topic(name, partitions=2, config={"retention.ms": "604800000"})
    with pytest.raises(LabCheckError, match="no topic"):
        checks.check_topic(name + "-missing", partitions=2)


def test_committed_and_lag_checks(make_topic, producer, consumer, unique):
    import edalab

    name = make_topic("lab11", partitions=2)
    p = producer()
    for i in range(5):
        p.produce(name, value=b"x", partition=i % 2)
    assert p.flush(10) == 0
    group = edalab.topic(unique("billing"))
    with pytest.raises(LabCheckError, match="committed no offsets"):
        checks.check_committed(name, group)
    c = consumer(group_id=group)
    c.commit(offsets=[TopicPartition(name, 0, 3), TopicPartition(name, 1, 1)], asynchronous=False)
    checks.check_committed(name, group, expected={0: 3, 1: 1})
    with pytest.raises(LabCheckError, match="expected"):
        checks.check_committed(name, group)  # partition 1 is not at its end (2)
    assert checks.lag(name, group) == {0: 0, 1: 1}
    checks.check_lag({0: 0, 1: 1}, name, group)
    with pytest.raises(LabCheckError, match="broker says"):
        checks.check_lag({0: 3, 1: 2}, name, group)

    topic, case_group, expected = checks.make_lag_case()
    assert checks.lag(topic, case_group) == expected
