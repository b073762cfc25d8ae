"""Fixtures for the Lambda tests: functions from source text, and what their handlers reported.

Handlers report by printing ``RESULT <json>`` lines; ``results(name)`` reads them back from
the function's CloudWatch Logs group, so every trigger test also checks that output reaches
``/aws/lambda/<name>``.
"""

from __future__ import annotations

import json
import time

import pytest


def wait_until(check, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``check()`` until it returns something truthy; return that (or fail the test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last value: {value!r}")
        time.sleep(interval)


SQS_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


@pytest.fixture
def role(aws) -> str:
    """The execution role: logs, and reading queues (SQS event source mappings need it)."""
    from edalab.lambda_zip import BASIC_EXECUTION_POLICY, ensure_lambda_role

    return ensure_lambda_role(aws("iam"), policy_arns=(BASIC_EXECUTION_POLICY, SQS_EXECUTION))


@pytest.fixture
def make_function(aws, role, unique):
    """``make_function(source, **config) -> name``: a Python 3.12 function from handler source."""
    from edalab import zip_handler

    lam = aws("lambda")

    def make(source: str, handler: str = "handler.lambda_handler", name: str | None = None,
             timeout: int = 3, memory: int = 128, env: dict | None = None,
             tags: dict | None = None, extra_files: dict | None = None) -> str:
        name = name or unique("fn")
        kwargs = {"Environment": {"Variables": env}} if env else {}
        if tags:
            kwargs["Tags"] = tags
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=handler,
                            Code={"ZipFile": zip_handler(source, extra_files=extra_files)},
                            Timeout=timeout, MemorySize=memory, **kwargs)
        return name

    return make


@pytest.fixture
def log_messages(aws):
    """``log_messages(name)`` -> every message in /aws/lambda/<name>, oldest first."""
    logs = aws("logs")

    def read(name: str) -> list[str]:
        messages, kwargs = [], {"logGroupName": f"/aws/lambda/{name}"}
        try:
            while True:
                page = logs.filter_log_events(**kwargs)
                messages += [e["message"] for e in page["events"]]
                if not page.get("nextToken"):
                    return messages
                kwargs["nextToken"] = page["nextToken"]
        except logs.exceptions.ResourceNotFoundException:
            return []

    return read


@pytest.fixture
def results(log_messages):
    """``results(name)`` -> the JSON values the handler printed as ``RESULT <json>`` lines."""

    def read(name: str) -> list:
        return [json.loads(m[len("RESULT "):]) for m in log_messages(name) if m.startswith("RESULT ")]

    return read


@pytest.fixture
def wait():
    """``wait(check, timeout=30, what=...)``: poll until ``check()`` is truthy, return it."""
    return wait_until
