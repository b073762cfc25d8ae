"""The log: replay from the beginning, high watermark, consumer lag."""

from __future__ import annotations

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from kafka_helpers import consume, produce_all, wait_for


def test_seek_to_beginning_replays_everything(make_topic, producer, consumer, unique):
    name = make_topic("events", partitions=2)
    records = [(f"k{i % 4}".encode(), f"v{i}".encode()) for i in range(20)]
    produce_all(producer(), name, records)
    c = consumer(group_id=unique("replay"))
    c.subscribe([name])
    first = consume(c, 20)
    c.commit(asynchronous=False)
    for tp in c.assignment():
        c.seek(TopicPartition(name, tp.partition, OFFSET_BEGINNING))
    second = consume(c, 20)
    ids = lambda msgs: sorted((m.partition(), m.offset(), m.value()) for m in msgs)  # noqa: E731
    assert ids(first) == ids(second)


def test_new_group_with_earliest_reads_history(make_topic, producer, consumer, unique):
    name = make_topic("history", partitions=1)
    produce_all(producer(), name, [(None, b"old")])
    c = consumer(group_id=unique("late"), auto_offset_reset="earliest")
    c.subscribe([name])
    assert consume(c, 1)[0].value() == b"old"


def test_high_watermark_and_lag(make_topic, producer, consumer, unique):
    name = make_topic("lag", partitions=2)
    p = producer()
    for i in range(30):
        p.produce(name, value=f"{i}".encode(), partition=i % 2)
    assert p.flush(10) == 0
    group = unique("slow")
    c = consumer(group_id=group)
    c.assign([TopicPartition(name, 0, 0), TopicPartition(name, 1, 0)])
    for tp in (0, 1):
        low, high = c.get_watermark_offsets(TopicPartition(name, tp), timeout=10)
        assert (low, high) == (0, 15)
    got = consume(c, 10)
    last = {}
    for m in got:
        last[m.partition()] = max(last.get(m.partition(), -1), m.offset())
    c.commit(offsets=[TopicPartition(name, tp, off + 1) for tp, off in last.items()], asynchronous=False)
    committed = c.committed([TopicPartition(name, 0), TopicPartition(name, 1)], timeout=10)
    lag = 0
    for tp in committed:
        _, high = c.get_watermark_offsets(TopicPartition(name, tp.partition), timeout=10)
        lag += high - (tp.offset if tp.offset >= 0 else 0)
    assert lag == 30 - 10
    # A fresh admin view of the same group sees the same committed offsets.
    from confluent_kafka.admin import AdminClient
    from confluent_kafka import ConsumerGroupTopicPartitions
    import edalab

    admin = AdminClient(edalab.kafka_config())
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(edalab.topic(group))])
    offsets = wait_for(lambda: result[edalab.topic(group)].result(10).topic_partitions, "group offsets")
    assert sum(tp.offset for tp in offsets if tp.topic == name) == 10
