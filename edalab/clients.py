"""boto3 sessions and Kafka client configs that point at the chosen target.

Every notebook, lab and check helper gets its clients here, so the same code runs on the
embedded stack, on docker compose and on AWS. For local targets the credentials are dummy
ones built here (the learner's real keys in the environment or ~/.aws are never read), proxy
settings in the environment are ignored, the endpoint's host must resolve to loopback only
(checked when a client is made and again by a ``before-send`` hook on every request), and so
must the Kafka bootstrap servers.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config

from . import tagging
from . import target as _target
from .errors import NonLoopbackEndpoint


def _guard_and_scope(account_id: str | None):
    """before-send hook: keep requests on loopback, and scope them to one emulator account.

    moto isolates accounts by the ``x-moto-account-id`` header (access keys do not), so
    learners sharing one stack each see only their own queues, topics and functions.
    """

    def hook(request, **_):
        host = urlsplit(request.url).hostname
        if not _target.is_loopback(host):  # resolved now: a name must map to loopback only
            raise NonLoopbackEndpoint(
                f"Refused to send {request.method} {request.url}: a local target only talks to "
                "this machine. Use EDALAB_TARGET=aws to reach real AWS."
            )
        if account_id:
            request.headers[_target.ACCOUNT_HEADER] = account_id

    return hook


def session(account_id: str | None = None, target: _target.Target | None = None) -> boto3.Session:
    """A boto3 Session for the target; ``account_id`` scopes a local one to that account."""
    target = target or _target.current()
    if not target.local:
        _target.warn_costs_once()
        sess = boto3.Session(region_name=target.region)
        tagging.register(sess.events)
        return sess
    account = account_id or target.account_id
    # A bare botocore session with no profile: env vars like AWS_PROFILE or a broken ~/.aws
    # must not matter, and real keys must never be loaded, for an offline target.
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    core.set_config_variable("credential_file", "/dev/null")
    core.set_config_variable("config_file", "/dev/null")
    # LocalStack (compose) derives the account from a 12-digit access key id; moto from the
    # header added by the hook.
    sess = boto3.Session(
        aws_access_key_id=account if account else _target.DUMMY_KEY,
        aws_secret_access_key=_target.DUMMY_KEY,
        region_name=target.region,
        botocore_session=core,
    )
    sess.events.register("before-send", _guard_and_scope(account))
    tagging.register(sess.events)
    return sess


def _config(target: _target.Target, config: Config | None) -> Config:
    base = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=3,
        read_timeout=70,  # above SQS's 20 s long poll and Lambda's default timeouts
        s3={"addressing_style": "path"},  # bucket.127.0.0.1 is not a host
    )
    merged = base.merge(config) if config else base
    if target.local:
        # An explicit empty mapping: botocore then never reads HTTP(S)_PROXY / ALL_PROXY /
        # NO_PROXY, so a proxy in the environment cannot see (or forward) local requests.
        merged = merged.merge(Config(proxies={}))
    return merged


def _endpoint(target: _target.Target) -> str | None:
    """The target's endpoint, for a local target checked and pinned to a loopback address.

    The host is resolved now and every address must be loopback; a name is replaced by the
    address it resolved to, so the connection cannot go where a later lookup would send it.
    The before-send hook checks again on every request.
    """
    if not target.local:
        return target.aws_endpoint
    parts = urlsplit(target.aws_endpoint)
    addresses = _target.loopback_addresses(parts.hostname)
    if addresses is None:
        _target.require_loopback(parts.hostname, f"The AWS endpoint {target.aws_endpoint!r}", target.name)
    address = addresses[0]
    if address == (parts.hostname or "").strip("[]").lower():
        return target.aws_endpoint
    host = f"[{address}]" if ":" in address else address
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


def client(service: str, account_id: str | None = None, target: _target.Target | None = None,
           config: Config | None = None, check: bool = True):
    """A boto3 client for ``service`` on the target.

    With ``check`` (default) a local target that is not running raises StackNotRunning,
    naming the command that starts it, instead of a botocore connection error later.
    """
    target = target or _target.current()
    endpoint = _endpoint(target)
    if check:
        _target.require_running(replace(target, aws_endpoint=endpoint))
    return session(account_id, target).client(
        service, endpoint_url=endpoint, config=_config(target, config)
    )


def resource(service: str, account_id: str | None = None, target: _target.Target | None = None,
             config: Config | None = None):
    """A boto3 resource (e.g. ``resource("s3")``) on the target."""
    target = target or _target.current()
    endpoint = _endpoint(target)
    _target.require_running(replace(target, aws_endpoint=endpoint))
    return session(account_id, target).resource(
        service, endpoint_url=endpoint, config=_config(target, config)
    )


# librdkafka writes its log lines straight to stderr, where a notebook shows them in whatever
# cell runs - and nbgrader scores a test cell with any stderr output as failed. Route them
# through Python logging instead; they show up where a learner configures logging.
_KAFKA_LOG = logging.getLogger("edalab.kafka")
_KAFKA_LOG.addHandler(logging.NullHandler())  # not logging's last-resort stderr handler


def topic(name: str) -> str:
    """A Kafka topic or group name in this learner's namespace (``EDALAB_KAFKA_PREFIX``)."""
    prefix = _target.current().kafka_prefix
    return name if not prefix or name.startswith(prefix) else f"{prefix}{name}"


def kafka_config(**overrides) -> dict:
    """A confluent-kafka config dict for the target's broker; keyword args use dots as ``_``.

    ``kafka_config(group_id="shop")`` -> ``{"bootstrap.servers": ..., "group.id": "shop"}``.
    A ``group.id`` is namespaced like topics, so learners sharing a broker never share a group.
    """
    target = _target.current()
    conf = {"bootstrap.servers": target.kafka_bootstrap, "logger": _KAFKA_LOG}
    for key, value in overrides.items():
        conf[key.replace("_", ".")] = value
    if "group.id" in conf:
        conf["group.id"] = topic(conf["group.id"])
    if target.local:  # the same rule for an overridden bootstrap list, resolved now
        for host in _target.bootstrap_hosts(str(conf.get("bootstrap.servers", ""))) or [""]:
            _target.require_loopback(host, f"bootstrap.servers={conf.get('bootstrap.servers')!r}", target.name)
    return conf
