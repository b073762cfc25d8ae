"""Consumer groups: partitions shared between members, rebalance, committed offsets."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from kafka_helpers import consume, produce_all, wait_for


def _pump(*consumers):
    """Group protocol work (join, sync, rebalance callbacks) happens inside poll()."""
    return lambda: [c.poll(0.1) for c in consumers]


def test_two_consumers_split_partitions_and_rebalance(make_topic, consumer, unique):
    name = make_topic("orders", partitions=4)
    group = unique("shop")
    first = consumer(group_id=group)
    first.subscribe([name])
    wait_for(lambda: len(first.assignment()) == 4, "first consumer owns all 4 partitions",
             step=_pump(first))

    second = consumer(group_id=group)
    second.subscribe([name])
    wait_for(lambda: len(first.assignment()) == 2 and len(second.assignment()) == 2,
             "2 + 2 partitions after the second consumer joins", step=_pump(first, second))
    mine = {tp.partition for tp in first.assignment()}
    theirs = {tp.partition for tp in second.assignment()}
    assert mine | theirs == {0, 1, 2, 3} and not mine & theirs

    second.close()  # leaves the group: its partitions move back
    wait_for(lambda: len(first.assignment()) == 4, "first consumer owns all 4 again",
             step=_pump(first))


def test_commit_and_resume(make_topic, producer, consumer, unique):
    name = make_topic("payments", partitions=1)
    produce_all(producer(), name, [(None, f"m{i}".encode()) for i in range(10)])
    group = unique("payments")
    c = consumer(group_id=group)
    c.subscribe([name])
    msgs = consume(c, 4)
    c.commit(message=msgs[-1], asynchronous=False)
    c.close()

    again = consumer(group_id=group)
    committed = again.committed([TopicPartition(name, 0)], timeout=10)
    assert committed[0].offset == 4  # the next offset to read, not the last one read
    again.subscribe([name])
    rest = consume(again, 6)
    assert [m.value() for m in rest] == [f"m{i}".encode() for i in range(4, 10)]


def test_uncommitted_progress_is_reread(make_topic, producer, consumer, unique):
    name = make_topic("stock", partitions=1)
    produce_all(producer(), name, [(None, f"m{i}".encode()) for i in range(3)])
    group = unique("stock")
    c = consumer(group_id=group)
    c.subscribe([name])
    consume(c, 3)
    c.close()  # nothing committed (enable.auto.commit=false)
    again = consumer(group_id=group)
    again.subscribe([name])
    assert [m.value() for m in consume(again, 3)] == [b"m0", b"m1", b"m2"]
