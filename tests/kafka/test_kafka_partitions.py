"""Topics, partitions and keys: what notebook 08 and lab 11 teach about where a record lands."""

from __future__ import annotations

from confluent_kafka import TopicPartition
from confluent_kafka.admin import NewPartitions

from kafka_helpers import consume, produce_all, wait_for
from labchecks.kafka import java_partition, murmur2  # lab 11's reference, pinned below


def test_murmur2_reference_matches_kafka_test_vectors():
    """The reference the lab checks and this suite use: values from Apache Kafka's
    UtilsTest.testMurmur2 (signed 32-bit)."""
    vectors = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
               b"a-little-bit-longer-string": -1486304829,
               b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971, b"abc": 479470107}
    for data, signed in vectors.items():
        assert murmur2(data) == signed & 0xFFFFFFFF, data


def test_topic_is_created_with_the_asked_partitions_and_config(admin, make_topic):
    from confluent_kafka.admin import ConfigResource

    name = make_topic("orders", partitions=4, retention_ms=3600000)
    assert len(admin.list_topics(name, timeout=5).topics[name].partitions) == 4
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    config = admin.describe_configs([resource])[resource].result(10)
    assert config["retention.ms"].value == "3600000"


def test_same_key_same_partition_murmur2(make_topic, producer, consumer, unique):
    name = make_topic("orders", partitions=6)
    p = producer(partitioner="murmur2_random")
    keys = [f"order-{i}".encode() for i in range(30)]
    records = [(k, f"{k.decode()}#{n}".encode()) for n in range(3) for k in keys]
    reports = produce_all(p, name, records)
    by_key = {}
    for key, _, partition, _ in reports:
        by_key.setdefault(key, set()).add(partition)
    assert all(len(parts) == 1 for parts in by_key.values()), by_key
    assert {k: parts.pop() for k, parts in by_key.items()} == {k: java_partition(k, 6) for k in keys}
    assert len({java_partition(k, 6) for k in keys}) > 1, "keys should spread over partitions"
    # The broker stored each record in the partition the client chose, in send order per key.
    c = consumer(group_id=unique("g"))
    c.subscribe([name])
    msgs = consume(c, len(records))
    seen = {}
    for msg in msgs:
        assert msg.partition() == java_partition(msg.key(), 6)
        seen.setdefault(msg.key(), []).append(msg.value())
    assert all(v == [f"{k.decode()}#{n}".encode() for n in range(3)] for k, v in seen.items())


def test_add_partitions(admin, make_topic, producer, consumer, unique):
    name = make_topic("grow", partitions=2)
    admin.create_partitions([NewPartitions(name, 5)])[name].result(10)
    wait_for(lambda: len(admin.list_topics(name, timeout=5).topics[name].partitions) == 5,
             "5 partitions in metadata")
    p = producer()
    for part in range(5):
        p.produce(name, value=f"p{part}".encode(), partition=part)
    assert p.flush(10) == 0
    c = consumer(group_id=unique("g"))
    c.assign([TopicPartition(name, 4, 0)])
    (msg,) = consume(c, 1)
    assert (msg.partition(), msg.value()) == (4, b"p4")
