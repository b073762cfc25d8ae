"""The Kafka view widget reads partitions, lag and owners from the broker (notebook 08)."""

from __future__ import annotations

from confluent_kafka import TopicPartition

from kafka_helpers import wait_for


def test_view_shows_lag_and_partition_owners(make_topic, producer, consumer, unique):
    import edalab
    from edalab.widgets.kafka_view import KafkaView, partition_table

    name = make_topic("view", partitions=2)
    p = producer()
    for i in range(10):
        p.produce(name, value=b"x", partition=i % 2)
    assert p.flush(10) == 0
    group = edalab.topic(unique("viewers"))

    view = KafkaView(name, group)
    assert [(r["partition"], r["end"], r["committed"], r["lag"], r["owner"]) for r in view.rows] == [
        (0, 5, None, 5, None), (1, 5, None, 5, None)]

    c = consumer(group_id=group, client_id="reader-a")
    c.subscribe([name])
    wait_for(lambda: len(c.assignment()) == 2, "assignment", step=lambda: c.poll(0.1))
    c.commit(offsets=[TopicPartition(name, 0, 3)], asynchronous=False)
    view.refresh()
    assert view.owners() == {"reader-a": [0, 1]}
    assert [r["lag"] for r in view.rows] == [2, 5]
    assert view.history[-1][1] == 7 and "reader-a" in view.children[1].value
    assert partition_table(name, group)[0]["committed"] == 3
