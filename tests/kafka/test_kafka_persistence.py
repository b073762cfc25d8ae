"""The broker keeps its log across `edalab down` / `edalab up` (data in the state folder)."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_helpers import consume


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_topics_offsets_and_records_survive_restart(tmp_path):
    from edalab.stack import Stack

    # A private stack: restarting the session's would disturb every other test.
    st = Stack(home=tmp_path / "home", aws_port=_free_port(), kafka_port=_free_port())
    bootstrap = {"bootstrap.servers": f"127.0.0.1:{st.kafka_port}"}
    st.up(say=lambda *_: None)
    try:
        admin = AdminClient(bootstrap)
        admin.create_topics([NewTopic("durable", num_partitions=2, replication_factor=1)])["durable"].result(10)
        p = Producer(bootstrap)
        for i in range(6):
            p.produce("durable", key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 2)
        assert p.flush(10) == 0
        c = Consumer({**bootstrap, "group.id": "keeper", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.assign([TopicPartition("durable", 0, 0)])
        consume(c, 2)
        c.commit(offsets=[TopicPartition("durable", 0, 2)], asynchronous=False)
        c.close()

        st.down(say=lambda *_: None)
        st.up(say=lambda *_: None)

        admin = AdminClient(bootstrap)
        assert len(admin.list_topics("durable", timeout=10).topics["durable"].partitions) == 2
        c = Consumer({**bootstrap, "group.id": "keeper", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        assert c.committed([TopicPartition("durable", 0)], timeout=10)[0].offset == 2
        c.assign([TopicPartition("durable", 0, 0), TopicPartition("durable", 1, 0)])
        values = sorted(m.value() for m in consume(c, 6))
        c.close()
        assert values == [f"v{i}".encode() for i in range(6)]
    finally:
        st.down(say=lambda *_: None)
