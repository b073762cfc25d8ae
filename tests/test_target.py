"""The target config: local targets stay on loopback with dummy keys, whatever the environment."""

from __future__ import annotations

import http.server
import threading

import pytest

import edalab
from edalab import target as T
from edalab.errors import ConfigError, NonLoopbackEndpoint, StackNotRunning
from edalab.stack import free_port


def test_unknown_target_lists_the_valid_choices(monkeypatch):
    monkeypatch.setenv("EDALAB_TARGET", "azure")
    with pytest.raises(ConfigError, match="embedded, compose, aws"):
        T.current()


@pytest.mark.parametrize("var,value", [("EDALAB_AWS_PORT", "lots"), ("EDALAB_AWS_PORT", "70000"),
                                        ("EDALAB_ACCOUNT_ID", "12345")])
def test_malformed_config_is_a_clear_error(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var):
        T.current()


@pytest.mark.parametrize("endpoint", ["http://10.0.0.5:4566", "https://sqs.us-east-1.amazonaws.com",
                                      "http://localhost.example.com:4566"])
def test_local_target_refuses_non_loopback_endpoints(monkeypatch, endpoint):
    monkeypatch.setenv("EDALAB_AWS_ENDPOINT", endpoint)
    with pytest.raises(NonLoopbackEndpoint, match="EDALAB_TARGET=aws"):
        T.current()


def test_local_target_refuses_non_loopback_kafka(monkeypatch):
    monkeypatch.setenv("EDALAB_KAFKA_BOOTSTRAP", "b-1.msk.example.com:9092")
    with pytest.raises(NonLoopbackEndpoint):
        T.current()


def test_stack_down_is_one_clear_error_naming_the_fix(monkeypatch):
    monkeypatch.setenv("EDALAB_AWS_PORT", str(free_port()))
    with pytest.raises(StackNotRunning, match="edalab up"):
        edalab.client("sqs")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        self.seen.append(dict(self.headers))
        self.send_response(400)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_real_aws_keys_in_the_environment_are_never_sent(monkeypatch, tmp_path):
    """A learner's real keys (env or ~/.aws) must not reach even a loopback endpoint."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = AKIAFILEKEY0000000000\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("EDALAB_AWS_PORT", str(server.server_port))
    try:
        sqs = edalab.client("sqs")
        with pytest.raises(Exception):
            sqs.list_queues()
    finally:
        server.shutdown()
    assert _Recorder.seen, "the request reached the loopback recorder"
    auth = " ".join(h.get("Authorization", "") for h in _Recorder.seen)
    assert "AKIAREALKEY" not in auth and "AKIAFILEKEY" not in auth
    assert "Credential=123456789012/" in auth


def test_accounts_are_isolated_on_one_stack(stack, unique):
    name = unique("private")
    alice = edalab.client("sqs", account_id="111111111111")
    bob = edalab.client("sqs", account_id="222222222222")
    url = alice.create_queue(QueueName=name)["QueueUrl"]
    assert "111111111111" in url
    assert name not in " ".join(bob.list_queues().get("QueueUrls", []))


def test_plain_boto3_and_localstack_client_work_unchanged(stack, monkeypatch, unique):
    """LocalStack's edge port contract: AWS_ENDPOINT_URL and localstack-client just work."""
    import boto3
    import localstack_client.session

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{stack.aws_port}")
    plain = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="test",
                         aws_secret_access_key="test")
    name = unique("plain")
    plain.create_queue(QueueName=name)
    monkeypatch.setenv("LOCALSTACK_HOST", f"127.0.0.1:{stack.aws_port}")
    ls = localstack_client.session.Session().client("sqs")
    assert any(name in u for u in ls.list_queues()["QueueUrls"])


def test_kafka_round_trip_with_namespaced_names(stack, monkeypatch, unique):
    from confluent_kafka import Consumer, Producer

    monkeypatch.setenv("EDALAB_KAFKA_PREFIX", "student7-")
    topic = edalab.topic(unique("orders"))
    assert topic.startswith("student7-") and edalab.topic(topic) == topic
    producer = Producer(edalab.kafka_config())
    producer.produce(topic, b"OrderPlaced", key=b"order-1")
    assert producer.flush(10) == 0
    conf = edalab.kafka_config(group_id="shop", auto_offset_reset="earliest")
    assert conf["group.id"] == "student7-shop"
    consumer = Consumer(conf)
    consumer.subscribe([topic])
    msg = None
    for _ in range(30):
        msg = consumer.poll(1.0)
        if msg is not None and not msg.error():
            break
    consumer.close()
    assert msg is not None and msg.value() == b"OrderPlaced" and msg.key() == b"order-1"


def test_aws_target_is_opt_in_with_a_cost_warning(monkeypatch):
    monkeypatch.setenv("EDALAB_TARGET", "aws")
    with pytest.raises(ConfigError, match="EDALAB_AWS_ACCEPT_COSTS=1"):
        T.current()
    monkeypatch.setenv("EDALAB_AWS_ACCEPT_COSTS", "1")
    assert T.current().aws_endpoint is None and not T.current().local


def test_everything_the_course_creates_is_tagged_and_cleaned_up(stack, account, unique, capsys):
    """`edalab cleanup` finds what the labs created by its tag and deletes it."""
    from edalab import tagging

    sqs = edalab.client("sqs", account_id=account)
    sns = edalab.client("sns", account_id=account)
    q = sqs.create_queue(QueueName=unique("left-behind"))["QueueUrl"]
    t = sns.create_topic(Name=unique("left-behind"))["TopicArn"]
    assert sqs.list_queue_tags(QueueUrl=q)["Tags"] == {"edalab": "course"}
    found = tagging.cleanup(account_id=account, yes=False)
    assert t in found and any(a.endswith(q.rsplit("/", 1)[1]) for a in found)
    assert "edalab cleanup --yes" in capsys.readouterr().out
    tagging.cleanup(account_id=account, yes=True)
    assert not sqs.list_queues().get("QueueUrls")
    assert not sns.list_topics()["Topics"]
    assert tagging.tagged_resources(account_id=account) == []


class _ProxyRecorder:
    """A loopback listener standing in for a proxy: it records every connection and closes it."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.seen.append(conn.recv(4096))
            except OSError:
                self.seen.append(b"")
            conn.close()

    def close(self):
        self.sock.close()


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def test_proxy_variables_are_ignored_for_local_targets(monkeypatch):
    """A proxy in the environment sees nothing of a local target's requests (plain boto3,
    for comparison, sends them to it)."""
    import boto3
    from botocore.config import Config

    _Recorder.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = _ProxyRecorder()
    for var in PROXY_VARS:
        monkeypatch.setenv(var, f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("EDALAB_AWS_PORT", str(server.server_port))
    try:
        plain = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{server.server_port}",
                             region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                             config=Config(retries={"max_attempts": 1}))
        with pytest.raises(Exception):
            plain.list_queues()
        assert proxy.seen, "plain boto3 follows HTTP_PROXY (so this test can see a leak)"
        proxy.seen.clear()
        _Recorder.seen = []
        sqs = edalab.client("sqs")
        with pytest.raises(Exception):
            sqs.list_queues()
    finally:
        server.shutdown()
        proxy.close()
    assert _Recorder.seen, "the request went straight to the endpoint"
    assert proxy.seen == []


@pytest.fixture
def resolver(monkeypatch):
    """``resolver({"foo.localhost": "10.1.2.3"})``: names this process resolves differently
    (the unit check of the rule; no hosts file is touched)."""
    import socket

    real = socket.getaddrinfo
    table = {}

    def fake(host, *args, **kwargs):
        if isinstance(host, str) and host.lower() in table:
            address = table[host.lower()]
            if address is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            port = args[0] if args and isinstance(args[0], int) else 0
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table.update


@pytest.mark.parametrize("endpoint", ["http://foo.localhost:4566", "http://localhost:4566",
                                      "http://nowhere.localhost:4566"])
def test_a_name_is_loopback_only_if_it_resolves_to_loopback(monkeypatch, resolver, endpoint):
    """`*.localhost` and even `localhost` count by the address they resolve to."""
    resolver({"foo.localhost": "10.1.2.3", "localhost": "192.0.2.10", "nowhere.localhost": None})
    monkeypatch.setenv("EDALAB_AWS_ENDPOINT", endpoint)
    with pytest.raises(NonLoopbackEndpoint):
        T.current()


@pytest.mark.parametrize("host", ["10.0.0.5", "192.0.2.1", "[2001:db8::1]", "0.0.0.0", "169.254.169.254"])
def test_literal_non_loopback_addresses_are_refused(monkeypatch, host):
    monkeypatch.setenv("EDALAB_AWS_ENDPOINT", f"http://{host}:4566")
    with pytest.raises(NonLoopbackEndpoint):
        T.current()
    assert not T.is_loopback(host)


def test_kafka_bootstrap_follows_the_same_rule(monkeypatch, resolver):
    resolver({"broker.localhost": "10.9.9.9", "kafka.localhost": "127.0.0.1"})
    monkeypatch.setenv("EDALAB_KAFKA_BOOTSTRAP", "127.0.0.1:9092,broker.localhost:9092")
    with pytest.raises(NonLoopbackEndpoint):
        T.current()
    monkeypatch.setenv("EDALAB_KAFKA_BOOTSTRAP", "kafka.localhost:9092")
    assert edalab.kafka_config()["bootstrap.servers"] == "kafka.localhost:9092"
    with pytest.raises(NonLoopbackEndpoint):
        edalab.kafka_config(bootstrap_servers="10.0.0.7:9092")
    with pytest.raises(NonLoopbackEndpoint):
        edalab.kafka_config(bootstrap_servers="PLAINTEXT://broker.localhost:9092")


def test_names_are_resolved_at_creation_and_again_at_send(monkeypatch, resolver):
    """A client's endpoint name is pinned to the loopback address it resolved to; a request
    to a name that resolves elsewhere by the time it is sent is refused before it leaves."""
    _Recorder.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    resolver({"course.localhost": "127.0.0.1"})
    monkeypatch.setenv("EDALAB_AWS_ENDPOINT", f"http://course.localhost:{port}")
    try:
        sqs = edalab.client("sqs")
        assert sqs.meta.endpoint_url == f"http://127.0.0.1:{port}"
        resolver({"course.localhost": "10.1.2.3"})  # the name moves off the machine
        with pytest.raises(NonLoopbackEndpoint):
            edalab.client("sqs")
        with pytest.raises(Exception):
            sqs.list_queues()  # still goes to the pinned loopback address
        assert _Recorder.seen
        _Recorder.seen = []
        resolver({"course.localhost": "127.0.0.1"})
        by_name = edalab.session().client("sqs", endpoint_url=f"http://course.localhost:{port}")
        resolver({"course.localhost": "10.1.2.3"})
        with pytest.raises(NonLoopbackEndpoint, match="Refused to send"):
            by_name.list_queues()
    finally:
        server.shutdown()
    assert _Recorder.seen == []
