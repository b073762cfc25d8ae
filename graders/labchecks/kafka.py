"""Checks on the learner's MSK cluster and Kafka data (lab 11): they ask the control plane and
the broker, never only notebook variables.

Names go through ``edalab.topic`` in the lab, so every submission has its own topics and groups
on a shared broker; these helpers take the names as the notebook built them.
"""

from __future__ import annotations

import json
import logging

from botocore.exceptions import ClientError

from . import LabCheckError, check
from .aws import client, error_code, wait_for

TIMEOUT = 10.0

# librdkafka writes its log lines (e.g. "Purging 1 unserved events" when a client is freed) to
# the process's stderr; in a kernel they land in whatever cell runs, and nbgrader scores a test
# cell with any stderr output as 0. The checks' own clients log to a muted Python logger.
_MUTED = logging.getLogger("labchecks.kafka.librdkafka")
_MUTED.addHandler(logging.NullHandler())
_MUTED.propagate = False


def quiet_kafka_config(**overrides) -> dict:
    """``edalab.kafka_config(**overrides)`` whose client logs nothing to the cell's stderr."""
    import edalab

    return edalab.kafka_config(logger=_MUTED, **overrides)


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2`` (the Java client's default partitioner hash), unsigned.

    Written out because the checks must compute the expected partition independently of the
    client the learner used, and no maintained Python package ships Kafka's variant.
    """
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = (int.from_bytes(data[i:i + 4], "little") * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = data[length - length % 4:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if rest:
        h = ((h ^ rest[0]) * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


def java_partition(key: bytes | str, partitions: int) -> int:
    """The partition Kafka's default (Java) partitioner picks for a keyed record."""
    if isinstance(key, str):
        key = key.encode()
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def _admin():
    from confluent_kafka.admin import AdminClient

    return AdminClient(quiet_kafka_config())


# -- MSK control plane --------------------------------------------------------------------------
def cluster_by_name(name: str) -> dict:
    """The learner's cluster called ``name`` (ClusterInfo), or a LabCheckError."""
    kafka = client("kafka")
    found = [c for c in kafka.list_clusters(ClusterNameFilter=name)["ClusterInfoList"]
             if c["ClusterName"] == name and c["State"] != "DELETING"]
    check(found, f"There is no MSK cluster named {name!r} in your account. Run the cell that calls "
                 "kafka.create_cluster(ClusterName=CLUSTER_NAME, ...), then this check again.")
    return kafka.describe_cluster(ClusterArn=found[0]["ClusterArn"])["ClusterInfo"]


def check_cluster(name: str, brokers: int, kafka_version: str) -> str:
    """The cluster exists, is ACTIVE, with the asked broker count and version; returns its ARN."""
    info = cluster_by_name(name)
    check(info["State"] == "ACTIVE",
          f"Cluster {name!r} is {info['State']}, not ACTIVE. Wait for it: poll describe_cluster until "
          "ClusterInfo.State is 'ACTIVE' (the lab's wait loop), then run this check again.")
    check(info["NumberOfBrokerNodes"] == brokers,
          f"Cluster {name!r} has {info['NumberOfBrokerNodes']} broker nodes, expected {brokers}. "
          "Delete it (clean-up cell) and create it with NumberOfBrokerNodes="
          f"{brokers}.")
    version = info["CurrentBrokerSoftwareInfo"]["KafkaVersion"]
    check(version == kafka_version,
          f"Cluster {name!r} runs Kafka {version}, expected {kafka_version}. Delete it and create "
          f"it with KafkaVersion={kafka_version!r}.")
    return info["ClusterArn"]


def check_bootstrap(bootstrap, cluster_arn: str) -> None:
    """``bootstrap`` is what GetBootstrapBrokers returns for the cluster."""
    try:
        expected = client("kafka").get_bootstrap_brokers(ClusterArn=cluster_arn)["BootstrapBrokerString"]
    except ClientError as exc:
        raise LabCheckError(f"GetBootstrapBrokers failed for {cluster_arn} ({error_code(exc)}): is the "
                            "cluster ACTIVE?") from None
    check(bootstrap == expected,
          f"bootstrap is {bootstrap!r}, but the cluster's BootstrapBrokerString is {expected!r}. "
          "Set bootstrap = kafka.get_bootstrap_brokers(ClusterArn=cluster_arn)['BootstrapBrokerString'].")


# -- topics and records -------------------------------------------------------------------------
def check_topic(topic: str, partitions: int, config: dict | None = None) -> None:
    """The topic exists with ``partitions`` partitions and the given config values."""
    from confluent_kafka.admin import ConfigResource

    admin = _admin()
    meta = admin.list_topics(timeout=TIMEOUT).topics.get(topic)
    check(meta is not None and meta.error is None,
          f"There is no topic {topic!r} on the broker. Create it with AdminClient.create_topics("
          f"[NewTopic({topic!r}, num_partitions={partitions}, ...)]) and wait for the future's result().")
    check(len(meta.partitions) == partitions,
          f"Topic {topic!r} has {len(meta.partitions)} partitions, expected {partitions}. Partitions can "
          "only be added, never removed: run the lab's reset cell, then create it again.")
    if config:
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        actual = admin.describe_configs([resource])[resource].result(TIMEOUT)
        for key, value in config.items():
            got = actual[key].value if key in actual else None
            check(str(got) == str(value),
                  f"Topic {topic!r} has {key}={got!r}, expected {str(value)!r}. Pass config="
                  f"{{{key!r}: {str(value)!r}}} to NewTopic (or alter_configs the topic).")


def read_all(topic: str, timeout: float = TIMEOUT) -> list:
    """Every record of ``topic``, from offset 0 of each partition up to its end, as
    ``(partition, offset, key, value)``; read with manual assignment, so no group is touched."""
    import time

    import edalab
    from confluent_kafka import Consumer, TopicPartition

    admin = _admin()
    meta = admin.list_topics(topic, timeout=TIMEOUT).topics.get(topic)
    check(meta is not None and meta.error is None, f"There is no topic {topic!r} on the broker.")
    consumer = Consumer(quiet_kafka_config(group_id="labchecks-reader", enable_auto_commit=False))
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)[1]
                for p in meta.partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p, end in ends.items() if end > 0])
        want = sum(ends.values())
        records = []
        deadline = time.monotonic() + timeout
        while len(records) < want and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            records.append((msg.partition(), msg.offset(), msg.key(), msg.value()))
        check(len(records) >= want, f"Could read only {len(records)} of {want} records of {topic!r}.")
        return sorted(records)
    finally:
        consumer.close()


def check_keyed_records(topic: str, expected: list[tuple[str, dict]]) -> None:
    """The topic holds exactly the ``(key, event)`` records, each key in the partition Kafka's
    default partitioner picks, and each key's events in the given order."""
    records = read_all(topic)
    admin = _admin()
    partitions = len(admin.list_topics(topic, timeout=TIMEOUT).topics[topic].partitions)
    check(len(records) == len(expected),
          f"Topic {topic!r} holds {len(records)} records, expected {len(expected)}. Produce each event "
          "once (the reset cell empties the topic if you produced twice), then producer.flush().")
    by_key: dict[str, list] = {}
    for partition, _offset, key, value in records:
        check(key is not None, f"A record in {topic!r} (partition {partition}) has no key. Pass "
                               "key=event['order_id'] to produce(): the key picks the partition.")
        key = key.decode()
        want = java_partition(key, partitions)
        check(partition == want,
              f"Records with key {key!r} are in partition {partition}, but Kafka's default partitioner "
              f"puts that key in partition {want}. Create the producer with "
              "edalab.kafka_config(partitioner='murmur2_random') (the Java client's default).")
        try:
            by_key.setdefault(key, []).append(json.loads(value))
        except (TypeError, ValueError):
            raise LabCheckError(f"A record with key {key!r} is not JSON ({value[:60]!r}). Send "
                                "json.dumps(event).encode() as the value.") from None
    wanted: dict[str, list] = {}
    for key, event in expected:
        wanted.setdefault(key, []).append(event)
    check(set(by_key) == set(wanted),
          f"Topic {topic!r} has keys {sorted(by_key)}, expected {sorted(wanted)}. Use each event's "
          "order_id as its key.")
    for key, events in wanted.items():
        check(by_key[key] == events,
              f"The events of order {key!r} are {by_key[key]}, expected {events} in that order. Produce "
              "the events in list order, with key=order_id, as JSON.")


# -- groups, offsets, lag -----------------------------------------------------------------------
def end_offsets(topic: str) -> dict[int, int]:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec

    admin = _admin()
    meta = admin.list_topics(topic, timeout=TIMEOUT).topics.get(topic)
    check(meta is not None and meta.error is None, f"There is no topic {topic!r} on the broker.")
    futures = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in meta.partitions})
    return {tp.partition: fut.result().offset for tp, fut in futures.items()}


def committed_offsets(topic: str, group: str) -> dict[int, int]:
    """{partition: committed offset} of ``group`` on ``topic`` (partitions never committed left out)."""
    from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException

    admin = _admin()  # keep a reference: a collected client cancels its futures
    try:
        result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(TIMEOUT)
    except KafkaException as exc:
        raise LabCheckError(f"Could not read the offsets of group {group!r}: {exc}") from None
    return {tp.partition: tp.offset for tp in result.topic_partitions if tp.topic == topic and tp.offset >= 0}


def check_committed(topic: str, group: str, expected: dict[int, int] | None = None) -> None:
    """Group ``group`` committed ``expected`` ({partition: offset}; default: the end of every
    partition, i.e. it processed everything and said so)."""
    expected = end_offsets(topic) if expected is None else expected
    expected = {p: o for p, o in expected.items() if o > 0}
    actual = committed_offsets(topic, group)
    check(actual, f"Group {group!r} has committed no offsets on {topic!r}. Create the consumer with "
                  "enable_auto_commit=False and call consumer.commit(asynchronous=False) after processing.")
    check(actual == expected,
          f"Group {group!r} committed {actual} on {topic!r}, expected {expected} (partition: next offset "
          "to read). Commit after you processed every record: consumer.commit(asynchronous=False).")


def lag(topic: str, group: str) -> dict[int, int]:
    """The reference: per partition, log end offset minus the group's committed offset."""
    ends = end_offsets(topic)
    committed = committed_offsets(topic, group)
    return {p: end - committed.get(p, 0) for p, end in ends.items()}


def check_lag(result, topic: str, group: str) -> None:
    """The learner's lag ``result`` ({partition: lag}) matches the broker's."""
    check(isinstance(result, dict),
          f"consumer_lag(...) returned {type(result).__name__}, expected a dict {{partition: lag}}.")
    expected = lag(topic, group)
    got = {int(k): v for k, v in result.items()}
    check(got == expected,
          f"consumer_lag({topic!r}, {group!r}) returned {got}, but the broker says {expected}. Lag is "
          "the high watermark (get_watermark_offsets(...)[1]) minus the committed offset, per partition "
          "(a partition with no commit lags by its whole log).")


def make_lag_case() -> tuple[str, str, dict[int, int]]:
    """A fresh topic and group with a known lag, for testing the learner's lag function on data
    it has never seen: partition 0 holds 3 records (group committed 1), partition 1 holds 2
    (never committed) -> ``{0: 2, 1: 2}``."""
    import uuid

    import edalab
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import NewTopic

    name = edalab.topic(f"lab11-lagcheck-{uuid.uuid4().hex[:8]}")
    admin = _admin()  # keep a reference: a collected client cancels its futures
    admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(TIMEOUT)
    producer = Producer(quiet_kafka_config())
    for partition, count in ((0, 3), (1, 2)):
        for i in range(count):
            producer.produce(name, value=f"r{i}".encode(), partition=partition)
    check(producer.flush(TIMEOUT) == 0, "The lag check could not write its test records.")
    consumer = Consumer(quiet_kafka_config(group_id=name, enable_auto_commit=False))
    try:
        consumer.commit(offsets=[TopicPartition(name, 0, 1)], asynchronous=False)
    finally:
        consumer.close()
    return name, edalab.topic(name), {0: 2, 1: 2}


def check_cluster_gone(name: str) -> None:
    """No cluster called ``name`` is left (DELETING counts as gone)."""
    kafka = client("kafka")

    def remaining():
        return [c for c in kafka.list_clusters(ClusterNameFilter=name)["ClusterInfoList"]
                if c["ClusterName"] == name and c["State"] != "DELETING"]

    left = wait_for(lambda: not remaining(), timeout=5)
    check(left, f"Cluster {name!r} still exists. Run kafka.delete_cluster(ClusterArn=cluster_arn).")
