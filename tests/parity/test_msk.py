"""Amazon MSK control plane (the ``kafka`` API) as notebook 08 and lab 11 use it: the
getting-started tutorial creates a cluster, waits for ACTIVE, asks for the bootstrap brokers
and points a Kafka client at them, then deletes the cluster.

Quotes are from the Amazon MSK API Reference and the MSK Developer Guide.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from parity_helpers import wait_for

SUBNETS = ["subnet-0a1b2c3d", "subnet-1b2c3d4e", "subnet-2c3d4e5f"]


def _create(kafka, name: str, brokers: int = 3, version: str = "3.6.0") -> str:
    return kafka.create_cluster(
        ClusterName=name, KafkaVersion=version, NumberOfBrokerNodes=brokers,
        BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": SUBNETS},
    )["ClusterArn"]


def _state(kafka, arn: str) -> str:
    return kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"]


def _active(kafka, arn: str) -> str:
    """Wait the way the tutorial does (poll DescribeCluster); a short bound, as the embedded
    stack's clusters are ACTIVE within seconds."""
    return wait_for(lambda: _state(kafka, arn) == "ACTIVE" and arn, timeout=5, interval=0.25)


def _name(unique) -> str:
    return unique("msk-demo")


@pytest.mark.moto_gap("State stays CREATING for ever")
def test_create_cluster_goes_creating_then_active(aws, unique):
    """AWS: "The state of the cluster. The possible states are ACTIVE, CREATING, DELETING,
    FAILED, HEALING, MAINTENANCE, REBOOTING_BROKER, and UPDATING." (ClusterInfo.State). The
    Developer Guide's getting-started step 1: the cluster is created in the CREATING state and
    can be used once its status is Active."""
    kafka = aws("kafka")
    created = kafka.create_cluster(
        ClusterName=_name(unique), KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
        BrokerNodeGroupInfo={"InstanceType": "kafka.t3.small", "ClientSubnets": SUBNETS})
    assert created["State"] == "CREATING"
    assert _active(kafka, created["ClusterArn"]) == created["ClusterArn"]
    listed = kafka.list_clusters()["ClusterInfoList"]
    assert [c["State"] for c in listed if c["ClusterArn"] == created["ClusterArn"]] == ["ACTIVE"]


@pytest.mark.moto_gap("State stays CREATING for ever (CreateClusterV2)")
def test_create_cluster_v2_goes_active(aws, unique):
    """AWS CreateClusterV2: "Creates a new MSK cluster." - provisioned or serverless, with the
    same ClusterInfo.State life cycle as CreateCluster."""
    kafka = aws("kafka")
    created = kafka.create_cluster_v2(ClusterName=_name(unique), Provisioned={
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": SUBNETS[:2]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2})
    assert (created["State"], created["ClusterType"]) == ("CREATING", "PROVISIONED")
    arn = created["ClusterArn"]
    assert wait_for(lambda: kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE",
                    timeout=5, interval=0.25)
    info = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"]
    assert info["NumberOfBrokerNodes"] == 2
    assert info["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.6.0"


@pytest.mark.moto_gap("placeholder values: zookeeper.example.com, region:account-id operation ARN")
def test_describe_cluster_returns_the_clusters_own_values(aws, backend, unique):
    """AWS DescribeCluster: "Returns a description of the MSK cluster whose Amazon Resource
    Name (ARN) is specified in the request." - its ZookeeperConnectString is "The connection
    string to use to connect to the Apache ZooKeeper cluster", ActiveOperationArn the "Arn of
    active cluster operation", NumberOfBrokerNodes "The number of broker nodes in the
    cluster"; all describe this cluster in this account and Region."""
    kafka = aws("kafka")
    name = _name(unique)
    arn = _create(kafka, name, brokers=3, version="3.6.0")
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["ClusterName"] == name and info["NumberOfBrokerNodes"] == 3
    assert info["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.6.0"
    assert info["BrokerNodeGroupInfo"]["ClientSubnets"] == SUBNETS
    assert info["CurrentVersion"]
    assert f":{backend.account}:" in arn and f":{backend.account}:" in info["ActiveOperationArn"]
    hosts = [h.rsplit(":", 1)[0] for h in info["ZookeeperConnectString"].split(",")]
    assert hosts and all(name in h and h.endswith(".amazonaws.com") for h in hosts), hosts


@pytest.mark.moto_gap("GetBootstrapBrokers is a 500 (NotImplementedError)")
def test_bootstrap_brokers_reach_a_kafka_broker(aws, backend, unique):
    """AWS GetBootstrapBrokers: "A list of brokers that a client application can use to
    bootstrap." BootstrapBrokerString: "A string containing one or more hostname:port pairs."
    On the embedded stack that is its broker, so the address must answer a Kafka client."""
    from confluent_kafka.admin import AdminClient

    kafka = aws("kafka")
    arn = _active(kafka, _create(kafka, _name(unique)))
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
    assert all(pair.rsplit(":", 1)[1].isdigit() for pair in brokers.split(","))
    metadata = AdminClient({"bootstrap.servers": brokers}).list_topics(timeout=10)
    assert metadata.brokers


@pytest.mark.moto_gap("ListNodes is a 500 (NotImplementedError)")
def test_list_nodes_lists_each_broker(aws, unique):
    """AWS ListNodes: "Returns a list of the broker nodes in the cluster." Each NodeInfo has
    NodeType BROKER and BrokerNodeInfo with "The ID of the broker" and "Endpoints for
    accessing the broker"."""
    kafka = aws("kafka")
    arn = _active(kafka, _create(kafka, _name(unique), brokers=3))
    nodes = kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert [n["NodeType"] for n in nodes] == ["BROKER"] * 3
    assert sorted(n["BrokerNodeInfo"]["BrokerId"] for n in nodes) == [1, 2, 3]
    assert all(n["BrokerNodeInfo"]["Endpoints"] for n in nodes)
    assert {n["BrokerNodeInfo"]["ClientSubnet"] for n in nodes} == set(SUBNETS)


@pytest.mark.moto_gap("DeleteCluster removes at once and answers the old state; describe is then a 500")
def test_delete_cluster_goes_deleting_then_not_found(aws, unique):
    """AWS DeleteCluster: "Deletes the MSK cluster specified by the Amazon Resource Name (ARN)
    in the request." - the response's State is the cluster's new state (DELETING); once the
    deletion finishes, the cluster is unknown (NotFoundException, HTTP 404)."""
    kafka = aws("kafka")
    arn = _active(kafka, _create(kafka, _name(unique)))
    version = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    assert kafka.delete_cluster(ClusterArn=arn, CurrentVersion=version)["State"] == "DELETING"

    def gone():
        try:
            _state(kafka, arn)
            return False
        except kafka.exceptions.NotFoundException:
            return True

    assert wait_for(gone, timeout=5, interval=0.25)
    assert arn not in [c["ClusterArn"] for c in kafka.list_clusters()["ClusterInfoList"]]


@pytest.mark.moto_gap("an unknown cluster ARN is a 500 KeyError")
def test_unknown_cluster_arn_is_not_found(aws, backend):
    """AWS NotFoundException: "HTTP Status Code 404: Resource not found due to incorrect
    input. Correct your request and then retry it." (MSK API Reference, Errors)."""
    kafka = aws("kafka")
    arn = f"arn:aws:kafka:us-east-1:{backend.account}:cluster/nope/00000000-0000-0000-0000-000000000000-1"
    for call in (kafka.describe_cluster, kafka.get_bootstrap_brokers, kafka.list_nodes,
                 kafka.delete_cluster):
        with pytest.raises(ClientError) as err:
            call(ClusterArn=arn)
        assert err.value.response["Error"]["Code"] == "NotFoundException", call
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.moto_gap("a second cluster with the same name is created")
def test_cluster_name_is_unique_in_account_and_region(aws, unique):
    """AWS CreateCluster errors: "ConflictException - HTTP Status Code 409: This cluster name
    already exists. Retry your request using another name." (MSK API Reference). Lab 11
    re-runs from the top, so its solution reuses an existing cluster instead."""
    kafka = aws("kafka")
    name = _name(unique)
    _create(kafka, name)
    with pytest.raises(ClientError) as err:
        _create(kafka, name)
    assert err.value.response["Error"]["Code"] == "ConflictException"
    assert [c["ClusterName"] for c in kafka.list_clusters()["ClusterInfoList"]].count(name) == 1


def test_clusters_are_scoped_to_their_account(aws, backend, unique):
    """AWS ListClusters: "Returns a list of all the MSK clusters in the current Region." -
    of the caller's account only. (Plain moto isolates accounts too; this guards the
    extension, which must not leak clusters across learners.)"""
    kafka = aws("kafka")
    arn = _create(kafka, _name(unique))
    other_account = str(int(backend.account) + 1)
    other = type(backend)(backend.name, backend.endpoint, other_account).client("kafka")
    assert arn not in [c["ClusterArn"] for c in other.list_clusters()["ClusterInfoList"]]
    assert arn in [c["ClusterArn"] for c in kafka.list_clusters()["ClusterInfoList"]]
