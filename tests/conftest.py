"""Shared fixtures: one real embedded stack per test session (per xdist worker), on free
ports in a temporary state folder, so tests never touch a learner's running stack and
several test runs can share the machine.

The stack's ports and state folder are exported (EDALAB_AWS_PORT, EDALAB_KAFKA_PORT,
EDALAB_HOME), so everything started from a test - notebook kernels, nbgrader, Lambda
handlers, the browser's JupyterLab - reaches the same stack.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Tests must never read a developer's real AWS settings.
for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL", "EDALAB_TARGET", "EDALAB_ACCOUNT_ID", "EDALAB_KAFKA_PREFIX"):
    os.environ.pop(var, None)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The running embedded stack (a ``edalab.stack.Stack``), started once per session."""
    from edalab.stack import Stack, free_port

    home = tmp_path_factory.mktemp("edalab-home")
    st = Stack(home=home, aws_port=free_port(), kafka_port=free_port())
    saved = {k: os.environ.get(k) for k in ("EDALAB_HOME", "EDALAB_AWS_PORT", "EDALAB_KAFKA_PORT")}
    os.environ.update(EDALAB_HOME=str(home), EDALAB_AWS_PORT=str(st.aws_port),
                      EDALAB_KAFKA_PORT=str(st.kafka_port))
    st.up(say=lambda *_: None)
    yield st
    st.down(say=lambda *_: None)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def account(stack) -> str:
    """A fresh 12-digit account id: the test's resources are invisible to every other test."""
    return str(100000000000 + uuid.uuid4().int % 899999999999)


@pytest.fixture
def aws(stack, account):
    """``aws("sqs")`` -> a boto3 client for the embedded stack, scoped to this test's account."""
    import edalab

    return lambda service, **kw: edalab.client(service, account_id=account, **kw)


@pytest.fixture
def kafka_conf(stack):
    """``kafka_conf(**overrides)`` -> a confluent-kafka config for the embedded broker."""
    import edalab

    return edalab.kafka_config


@pytest.fixture
def unique():
    """``unique("orders")`` -> a name no other test uses (topics, queues, groups)."""
    return lambda base: f"{base}-{uuid.uuid4().hex[:8]}"
