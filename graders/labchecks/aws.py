"""Shared plumbing for the AWS lab checks: clients, polling, and turning "not found" into advice.

A hidden test looks at the learner's resources in the emulator (or AWS), never only at notebook
variables: the grader scopes ``edalab.client`` to each submission with ``EDALAB_ACCOUNT_ID``.
Delivery between services is asynchronous on AWS (and, for Lambda, in the emulator too), so
checks poll with ``wait_for`` instead of asserting once.
"""

from __future__ import annotations

import json
import time

from botocore.exceptions import ClientError

from . import LabCheckError, check

__all__ = ["client", "wait_for", "error_code", "as_json", "check", "LabCheckError"]


def client(service: str):
    """The learner's boto3 client for ``service`` (same target and account as the notebook)."""
    import edalab

    return edalab.client(service)


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def wait_for(probe, timeout: float = 15.0, interval: float = 0.3):
    """Call ``probe()`` until it returns something truthy or ``timeout`` seconds pass.

    Returns the last value (falsy on time-out) so the caller can word its own failure message.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def as_json(text, what: str, fix: str):
    """Parse JSON text (a message body, a policy) or fail saying what was expected."""
    if isinstance(text, (dict, list)):
        return text
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise LabCheckError(f"{what} is not JSON (got {str(text)[:120]!r}). {fix}") from None


def require(namespace: dict, name: str, task: str):
    """The notebook value ``name`` (e.g. a function the task asks for), or a LabCheckError
    saying which task's cell to run - instead of a NameError."""
    if name not in namespace:
        raise LabCheckError(f"`{name}` is not defined yet: complete and run the cell of {task}, "
                            "then run this check again.")
    return namespace[name]


def set_learner_global(namespace: dict, name: str, value) -> None:
    """Rebind ``name`` in the learner's notebook: in the checker (whose namespace reaches the
    learner's kernel through a bridge) it is set there; in a kernel it is a plain global."""
    bridge = getattr(namespace, "bridge", None)
    if bridge is not None:
        bridge.set_global(name, value)
    else:
        namespace[name] = value


def current_account_id() -> str:
    """The account the learner's clients act in (the grader's per-submission one, or AWS's)."""
    return client("sts").get_caller_identity()["Account"]


def delete_function(name: str) -> bool:
    """Delete the learner's Lambda function ``name``, its event source mappings and its log
    group, if any (a lab's idempotent setup and clean-up). The log group outlives the function
    on AWS too; a re-run that kept it would count the previous run's log lines."""
    lam = client("lambda")
    logs = client("logs")
    try:
        logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    for mapping in lam.list_event_source_mappings(FunctionName=name).get("EventSourceMappings", []):
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    try:
        lam.delete_function(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return False
        raise
    return True


def lambda_log_lines(function_name: str, until=None, timeout: float = 20.0) -> list[str]:
    """Every line the function wrote to CloudWatch Logs (``/aws/lambda/<name>``), polled until
    ``until(lines)`` is true (default: any line) or ``timeout`` seconds pass."""
    logs = client("logs")
    group = f"/aws/lambda/{function_name}"
    found: list[str] = []

    def probe():
        found.clear()
        try:
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
                found.extend(e["message"].rstrip("\n") for e in page["events"])
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        return until(found) if until else bool(found)

    wait_for(probe, timeout, interval=0.5)
    return list(found)


def delete_bucket(name: str) -> bool:
    """Empty and delete the learner's bucket ``name`` if it exists."""
    s3 = client("s3")
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=name)
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return False
        raise
    return True
