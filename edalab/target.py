"""The one place that decides where the labs' requests go.

Three targets share every notebook and lab:

* ``embedded`` (default) - the stack ``edalab up`` starts on loopback;
* ``compose`` - LocalStack + Apache Kafka from ``docker compose up``;
* ``aws`` - a real account, opt-in only (``EDALAB_TARGET=aws``).

For the two local targets this module never reads the learner's AWS credentials: it hands
out dummy keys and loopback endpoints whatever the environment holds, and a request that
would leave the machine is refused before it is sent. That is the course's promise that
practising offline can neither cost money nor leak a key.

Environment variables (all optional):

=====================  =====================================================
``EDALAB_TARGET``      ``embedded`` | ``compose`` | ``aws``
``EDALAB_HOME``        state folder of the embedded stack (pids, logs, data)
``EDALAB_AWS_PORT``    emulator port (default: the running stack's, else 4566)
``EDALAB_KAFKA_PORT``  broker port (default: the running stack's, else 9092)
``EDALAB_AWS_ENDPOINT``  full endpoint URL for a local target (must resolve to loopback)
``EDALAB_KAFKA_BOOTSTRAP``  bootstrap servers (resolving to loopback for local targets)
``EDALAB_REGION``      AWS region (default ``us-east-1``)
``EDALAB_ACCOUNT_ID``  account the clients act in (local targets; default 123456789012)
``EDALAB_KAFKA_PREFIX``  prefix for topic and group names (isolates learners)
``EDALAB_AWS_ACCEPT_COSTS``  must be 1 for the ``aws`` target: the opt-in to real costs
=====================  =====================================================
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError, NonLoopbackEndpoint, StackNotRunning

TARGETS = ("embedded", "compose", "aws")
LOCAL_TARGETS = ("embedded", "compose")
DEFAULT_AWS_PORT = 4566
DEFAULT_KAFKA_PORT = 9092
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DUMMY_KEY = "test"
ACCOUNT_HEADER = "x-moto-account-id"
FIX = {
    "embedded": "Start it with `edalab up` (or `make up`), then run the cell again.",
    "compose": "Start it with `docker compose up -d` in the course folder, then run the cell again.",
    "aws": "Check your AWS credentials and network.",
}


def home() -> Path:
    """The embedded stack's state folder (git-ignored): pid files, logs, broker data."""
    env = os.environ.get("EDALAB_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / ".edalab"


def _running_ports() -> dict:
    """Ports of the embedded stack that is running, so notebooks follow `edalab up --aws-port`."""
    try:
        return json.loads((home() / "stack.json").read_text())
    except (OSError, ValueError):
        return {}


def _port(var: str, key: str, default: int) -> int:
    raw = os.environ.get(var)
    if raw is None:
        return int(_running_ports().get(key, default))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a port number: use a whole number 1-65535.") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{var}={raw!r} is out of range: use a whole number 1-65535.")
    return port


def loopback_addresses(host: str | None) -> list[str] | None:
    """The addresses ``host`` stands for if every one is loopback (127.0.0.0/8, ::1), else None.

    A name counts by what it resolves to, not by how it looks: ``foo.localhost`` or
    ``localhost`` mapped elsewhere (a hosts file, a resolver that answers for any name) would
    carry a request off the machine, so they are resolved and every address must be loopback.
    A name that does not resolve is not loopback.
    """
    if not host:
        return None
    host = host.strip("[]").lower()
    try:
        return [host] if ipaddress.ip_address(host.split("%", 1)[0]).is_loopback else None
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    addresses = sorted({info[4][0] for info in infos})
    try:
        ok = bool(addresses) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    except ValueError:
        return None
    return addresses if ok else None


def is_loopback(host: str | None) -> bool:
    """True if ``host`` is a loopback address or a name resolving only to loopback addresses."""
    return loopback_addresses(host) is not None


def require_loopback(host: str | None, what: str, target_name: str = "local") -> None:
    """Raise NonLoopbackEndpoint unless ``host`` is (resolves only to) loopback."""
    if not is_loopback(host):
        raise NonLoopbackEndpoint(
            f"{what} names {host!r}, which is not (or does not resolve only to) a loopback address; "
            f"the {target_name} target only talks to this machine (e.g. 127.0.0.1). "
            "To use real AWS, set EDALAB_TARGET=aws instead.")


def bootstrap_hosts(bootstrap: str) -> list[str]:
    """Host names of a Kafka bootstrap list ("h1:9092,[::1]:9093" -> ["h1", "::1"])."""
    hosts = []
    for server in filter(None, (s.strip() for s in bootstrap.split(","))):
        server = server.split("://", 1)[-1]  # "PLAINTEXT://host:port"
        hosts.append(server.rsplit(":", 1)[0] if ":" in server else server)
    return hosts


@dataclass(frozen=True)
class Target:
    """Where requests go: the AWS endpoint (None = real AWS) and the Kafka bootstrap."""

    name: str
    aws_endpoint: str | None
    kafka_bootstrap: str
    region: str
    account_id: str | None
    kafka_prefix: str = ""

    @property
    def local(self) -> bool:
        return self.name in LOCAL_TARGETS

    def fix_hint(self) -> str:
        return FIX[self.name]


def current() -> Target:
    """The target the environment selects, validated (ConfigError says what is allowed)."""
    name = os.environ.get("EDALAB_TARGET", "embedded").strip().lower() or "embedded"
    if name not in TARGETS:
        raise ConfigError(
            f"EDALAB_TARGET={name!r} is not a target. Valid choices: {', '.join(TARGETS)} "
            "(embedded is the default and needs no Docker or account)."
        )
    region = os.environ.get("EDALAB_REGION", DEFAULT_REGION)
    prefix = os.environ.get("EDALAB_KAFKA_PREFIX", "")
    if name == "aws":
        if os.environ.get("EDALAB_AWS_ACCEPT_COSTS", "").lower() not in ("1", "yes", "true"):
            raise ConfigError(
                "EDALAB_TARGET=aws sends the labs' requests to your real AWS account, and that "
                "can cost money (each lab states its cost). To go ahead, also set "
                "EDALAB_AWS_ACCEPT_COSTS=1; afterwards delete what the course created with "
                "`edalab cleanup --yes`. Unset EDALAB_TARGET to practise offline for free."
            )
        return Target(
            name, None, os.environ.get("EDALAB_KAFKA_BOOTSTRAP", ""), region, None, prefix
        )
    aws_port = _port("EDALAB_AWS_PORT", "aws_port", DEFAULT_AWS_PORT)
    kafka_port = _port("EDALAB_KAFKA_PORT", "kafka_port", DEFAULT_KAFKA_PORT)
    endpoint = os.environ.get("EDALAB_AWS_ENDPOINT") or f"http://127.0.0.1:{aws_port}"
    bootstrap = os.environ.get("EDALAB_KAFKA_BOOTSTRAP") or f"127.0.0.1:{kafka_port}"
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname):
        raise NonLoopbackEndpoint(
            f"EDALAB_AWS_ENDPOINT={endpoint!r} is not a loopback URL; the {name} target only "
            "talks to this machine (e.g. http://127.0.0.1:4566). To use real AWS, set "
            "EDALAB_TARGET=aws instead."
        )
    for host in bootstrap_hosts(bootstrap) or [""]:
        if not is_loopback(host):
            raise NonLoopbackEndpoint(
                f"EDALAB_KAFKA_BOOTSTRAP={bootstrap!r} names {host!r}, which is not loopback; "
                f"the {name} target only talks to this machine (e.g. 127.0.0.1:9092)."
            )
    account = os.environ.get("EDALAB_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
    if not (account.isdigit() and len(account) == 12):
        raise ConfigError(f"EDALAB_ACCOUNT_ID={account!r} must be 12 digits, e.g. 123456789012.")
    return Target(name, endpoint, bootstrap, region, account, prefix)


_warned = False


def warn_costs_once() -> None:
    """The aws target's banner: once per process, before the first real request."""
    global _warned
    if not _warned:
        _warned = True
        import sys

        print("edalab: target 'aws' - requests go to your real AWS account and may cost money. "
              "Everything the course creates is tagged edalab=course; remove it with "
              "`edalab cleanup --yes`.", file=sys.stderr)


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_running(target: Target | None = None) -> Target:
    """Raise StackNotRunning, naming the command that fixes it, if the AWS endpoint is down."""
    target = target or current()
    if target.local:
        parts = urlsplit(target.aws_endpoint)
        if not answers(parts.hostname, parts.port or 80):
            raise StackNotRunning(
                f"Nothing answers on {target.aws_endpoint} (target {target.name!r}): the lab "
                f"stack is not running. {target.fix_hint()}"
            )
    return target
