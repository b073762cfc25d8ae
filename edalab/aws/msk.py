"""Amazon MSK on the embedded stack: moto's ``kafka`` control plane, made to behave like AWS and
wired to the embedded Kafka broker.

moto 5.2.5 creates clusters but leaves them ``CREATING`` for ever with placeholder values, and
answers ``GetBootstrapBrokers`` / ``ListNodes`` with a 500 (not implemented); an unknown
cluster ARN is a 500 ``KeyError`` instead of ``NotFoundException``. AWS documents the life of a
cluster as CREATING -> ACTIVE (about 15-30 min on AWS) and DELETING -> gone; learners follow
the getting-started tutorial, which waits for ACTIVE and then asks for the bootstrap brokers.

Here a cluster is CREATING for ``ACTIVE_AFTER`` seconds, then ACTIVE; ``DeleteCluster`` makes
it DELETING for ``GONE_AFTER`` seconds, then it is gone. Every cluster's bootstrap brokers are
the embedded broker (one broker, PLAINTEXT on loopback), read at call time from the
environment or the stack's state file, so a Kafka client can use what the API returns.
"""

from __future__ import annotations

import json
import os
import random
import string
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote

ACTIVE_AFTER = 1.5  # seconds a new cluster stays CREATING
GONE_AFTER = 1.0  # seconds a deleted cluster stays DELETING
DEFAULT_KAFKA_VERSION = "3.6.0"
DEFAULT_INSTANCE_TYPE = "kafka.m5.large"


def kafka_bootstrap() -> str:
    """The embedded broker's address as a client on this machine reaches it.

    Read on every call, not at import: the emulator starts before (and independently of) the
    broker, and ``edalab up --kafka-port`` may move it. The stack passes ``EDALAB_HOME``; its
    ``stack.json`` holds ``kafka_port`` before the health checks run. The embedded broker is
    always on loopback.
    """
    from .. import target

    # The state file first: it is written by the stack that started this process, while an
    # inherited EDALAB_KAFKA_PORT may name another stack's broker.
    try:
        port = json.loads((target.home() / "stack.json").read_text()).get("kafka_port")
    except (OSError, ValueError):
        port = None
    port = port or os.environ.get("EDALAB_KAFKA_PORT")
    return f"127.0.0.1:{port or 9092}"


def _version_token() -> str:
    """A cluster version shaped like AWS's (e.g. ``K3AEGXETSR30VB``): opaque, upper-case."""
    return "K" + "".join(random.choices(string.ascii_uppercase + string.digits, k=13))


def _dns_suffix(cluster) -> str:
    return f"{cluster.cluster_name}.{cluster.short_id}.c2.kafka.{cluster.region_name}.amazonaws.com"


def _state(self) -> str:
    """CREATING turns ACTIVE once ``ACTIVE_AFTER`` has passed; DELETING stays until purged."""
    stored = self.__dict__.get("_edalab_state", "CREATING")
    if stored == "CREATING" and time.monotonic() - self.__dict__.get("_edalab_born", 0) >= ACTIVE_AFTER:
        return "ACTIVE"
    return stored


def _set_state(self, value: str) -> None:
    self.__dict__["_edalab_state"] = value
    self.__dict__.setdefault("_edalab_born", time.monotonic())


def _patch_cluster(cluster_cls) -> None:
    original_init = cluster_cls.__init__

    def __init__(self, *args, **kwargs):
        self.__dict__["_edalab_born"] = time.monotonic()
        self.short_id = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        original_init(self, *args, **kwargs)
        self.creation_time = datetime.now(timezone.utc).isoformat()
        self.current_version = _version_token()
        self.active_operation_arn = (
            f"arn:aws:kafka:{self.region_name}:{self.account_id}:cluster-operation/"
            f"{self.cluster_name}/{self.cluster_id}/{uuid.uuid4()}")
        if self.cluster_type == "PROVISIONED":
            self.kafka_version = self.kafka_version or DEFAULT_KAFKA_VERSION
            if self.kafka_version == "default-kafka-version":
                self.kafka_version = DEFAULT_KAFKA_VERSION
            self.number_of_broker_nodes = int(self.number_of_broker_nodes or 3)
            info = dict(self.broker_node_group_info or {})
            # moto keeps the request's JSON, whose wire names are camelCase.
            info.setdefault("instanceType", DEFAULT_INSTANCE_TYPE)
            info.setdefault("brokerAZDistribution", "DEFAULT")
            info.setdefault("storageInfo", {"ebsStorageInfo": {"volumeSize": 100}})
            self.broker_node_group_info = info
            hosts = [f"z-{i}.{_dns_suffix(self)}" for i in range(1, 4)]
            self.zookeeper_connect_string = ",".join(f"{h}:2181" for h in hosts)
            self.zookeeper_connect_string_tls = ",".join(f"{h}:2182" for h in hosts)

    def _generate_arn(self) -> str:
        # AWS: arn:aws:kafka:us-east-1:123456789012:cluster/demo-cluster-1/<uuid>-<n>
        kind = "cluster" if self.cluster_type == "PROVISIONED" else "serverless-cluster"
        return (f"arn:aws:kafka:{self.region_name}:{self.account_id}:{kind}/"
                f"{self.cluster_name}/{self.cluster_id}-{random.randint(1, 25)}")

    cluster_cls.__init__ = __init__
    cluster_cls._generate_arn = _generate_arn
    cluster_cls.state = property(_state, _set_state)


def _patch_backend(backend_cls, not_found, conflict) -> None:
    def purge(self) -> None:
        now = time.monotonic()
        for arn, cluster in list(self.clusters.items()):
            gone = cluster.__dict__.get("_edalab_deleted")
            if gone is not None and now - gone >= GONE_AFTER:
                del self.clusters[arn]

    def get(self, cluster_arn: str):
        purge(self)
        try:
            return self.clusters[cluster_arn]
        except KeyError:
            raise not_found(f"The cluster {cluster_arn} does not exist. Check the ARN "
                            "(list_clusters shows the clusters of this account and region).") from None

    def wrap_read(name):
        original = getattr(backend_cls, name)

        def method(self, cluster_arn, *args, **kwargs):
            cluster = get(self, cluster_arn)
            info = original(self, cluster_arn, *args, **kwargs)
            # moto's fixed placeholders ("string", "region:account-id") out, real values in;
            # AWS sends StateInfo only for a failed cluster.
            info["activeOperationArn"] = cluster.active_operation_arn
            info.pop("stateInfo", None)
            software = (info.get("provisioned") or info).get("currentBrokerSoftwareInfo")
            if software and not cluster.configuration_info:
                software.pop("configurationArn", None)
                software.pop("configurationRevision", None)
            return info

        setattr(backend_cls, name, method)

    for name in ("describe_cluster", "describe_cluster_v2"):
        wrap_read(name)

    for name in ("list_clusters", "list_clusters_v2"):
        original_list = getattr(backend_cls, name)

        def listing(self, *args, _original=original_list, **kwargs):
            purge(self)
            return _original(self, *args, **kwargs)

        setattr(backend_cls, name, listing)

    def delete_cluster(self, cluster_arn: str, current_version: str | None = None):
        cluster = get(self, cluster_arn)
        if current_version and current_version != cluster.current_version:
            from moto.kafka.exceptions import BadRequestException

            raise BadRequestException(
                f"The current version {current_version} does not match the cluster's "
                f"({cluster.current_version}); describe the cluster and retry with its CurrentVersion.")
        if cluster.__dict__.get("_edalab_deleted") is None:
            cluster.__dict__["_edalab_deleted"] = time.monotonic()
            cluster.state = "DELETING"
        return cluster_arn, "DELETING"

    def get_bootstrap_brokers(self, cluster_arn: str) -> dict:
        cluster = get(self, cluster_arn)
        if cluster.state != "ACTIVE":
            from moto.kafka.exceptions import BadRequestException

            raise BadRequestException(
                f"The cluster is {cluster.state}; bootstrap brokers exist once it is ACTIVE.")
        # The embedded broker speaks PLAINTEXT only, so that is the string returned whatever
        # encryption the cluster was created with.
        return {"BootstrapBrokerString": kafka_bootstrap()}

    def list_nodes(self, cluster_arn: str) -> list[dict]:
        cluster = get(self, cluster_arn)
        host, _, _port = kafka_bootstrap().split(",")[0].rpartition(":")
        info = cluster.broker_node_group_info or {}
        subnets = info.get("clientSubnets") or ["subnet-0a1b2c3d"]
        nodes = []
        for broker_id in range(1, int(cluster.number_of_broker_nodes or 1) + 1):
            nodes.append({
                "AddedToClusterTime": cluster.creation_time,
                "InstanceType": info.get("instanceType", DEFAULT_INSTANCE_TYPE),
                "NodeARN": f"arn:aws:kafka:{cluster.region_name}:{cluster.account_id}:broker/"
                           f"{cluster.cluster_name}/{cluster.cluster_id}/{broker_id}",
                "NodeType": "BROKER",
                "BrokerNodeInfo": {
                    "AttachedENIId": f"eni-{uuid.uuid4().hex[:17]}",
                    "BrokerId": float(broker_id),
                    "ClientSubnet": subnets[(broker_id - 1) % len(subnets)],
                    "ClientVpcIpAddress": host,
                    "CurrentBrokerSoftwareInfo": {"KafkaVersion": cluster.kafka_version},
                    # One embedded broker serves every node: the endpoint a client can reach.
                    "Endpoints": [host],
                },
            })
        return nodes

    def refuse_taken_name(name: str):
        original = getattr(backend_cls, name)

        def create(self, *args, **kwargs):
            wanted = kwargs.get("cluster_name")
            purge(self)
            if any(c.cluster_name == wanted and c.state != "DELETING" for c in self.clusters.values()):
                raise conflict(f"A cluster named {wanted!r} already exists in this account and Region. "
                               "Reuse it (list_clusters) or delete it first.")
            return original(self, *args, **kwargs)

        setattr(backend_cls, name, create)

    for name in ("create_cluster", "create_cluster_v2"):
        refuse_taken_name(name)

    backend_cls.delete_cluster = delete_cluster
    backend_cls.get_bootstrap_brokers = get_bootstrap_brokers
    backend_cls.list_nodes = list_nodes


def _cluster_arn(path: str, suffix: str = "") -> str:
    arn = unquote(path.split("/clusters/", 1)[-1])
    return arn[: -len(suffix)] if suffix and arn.endswith(suffix) else arn


def _patch_responses(response_cls) -> None:
    def get_bootstrap_brokers(self) -> str:
        arn = _cluster_arn(self.parsed_url.path, "/bootstrap-brokers")
        brokers = self.kafka_backend.get_bootstrap_brokers(arn)
        return json.dumps({k[0].lower() + k[1:]: v for k, v in brokers.items()})

    def list_nodes(self) -> str:
        arn = _cluster_arn(self.parsed_url.path, "/nodes")
        nodes = self.kafka_backend.list_nodes(arn)
        return json.dumps({"nodeInfoList": [_camel(n) for n in nodes]})

    response_cls.get_bootstrap_brokers = get_bootstrap_brokers
    response_cls.list_nodes = list_nodes


def _camel(value):
    """The kafka REST API's wire names are camelCase (``BrokerId`` -> ``brokerId``)."""
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def install() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kafka import models, responses
    from moto.kafka.exceptions import NotFoundException

    class NotFound(NotFoundException):
        code = 404  # moto's JsonRESTError answers 400; AWS documents 404 for this error

    class Conflict(JsonRESTError):
        code = 409

        def __init__(self, message: str):
            super().__init__("ConflictException", message)

    if getattr(models.KafkaBackend, "_edalab_installed", False):
        return
    _patch_cluster(models.FakeKafkaCluster)
    _patch_backend(models.KafkaBackend, NotFound, Conflict)
    _patch_responses(responses.KafkaResponse)
    models.KafkaBackend._edalab_installed = True


