"""Idempotent producer and transactions: what 'exactly once' means in the course."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from kafka_helpers import WAIT, consume, produce_all


def test_idempotent_producer_writes_each_record_once_in_order(make_topic, producer, consumer, unique):
    name = make_topic("idem", partitions=1)
    p = producer(enable_idempotence=True, acks="all")
    reports = produce_all(p, name, [(b"order-1", f"{i}".encode()) for i in range(50)])
    assert [off for _, _, _, off in reports] == list(range(50))
    c = consumer(group_id=unique("g"))
    c.assign([TopicPartition(name, 0, 0)])
    assert [m.value() for m in consume(c, 50)] == [f"{i}".encode() for i in range(50)]
    _, high = c.get_watermark_offsets(TopicPartition(name, 0), timeout=10)
    assert high == 50


def test_read_committed_skips_aborted_transactions(make_topic, producer, consumer, unique):
    name = make_topic("tx", partitions=1)
    p = producer(transactional_id=unique("tx"))
    p.init_transactions(WAIT)
    p.begin_transaction()
    p.produce(name, value=b"aborted-1")
    p.produce(name, value=b"aborted-2")
    p.flush(WAIT)
    p.abort_transaction(WAIT)
    p.begin_transaction()
    p.produce(name, value=b"committed-1")
    p.produce(name, value=b"committed-2")
    p.commit_transaction(WAIT)
    # A plain record after the transactions, so the reader knows when it has seen everything.
    plain = producer()
    produce_all(plain, name, [(None, b"after")])

    committed = consumer(group_id=unique("rc"), isolation_level="read_committed")
    committed.assign([TopicPartition(name, 0, 0)])
    assert [m.value() for m in consume(committed, 3)] == [b"committed-1", b"committed-2", b"after"]

    uncommitted = consumer(group_id=unique("ru"), isolation_level="read_uncommitted")
    uncommitted.assign([TopicPartition(name, 0, 0)])
    values = [m.value() for m in consume(uncommitted, 5)]
    assert values == [b"aborted-1", b"aborted-2", b"committed-1", b"committed-2", b"after"]
