"""Checks on the learner's EventBridge rules and targets, and on what a Lambda function logged
(CloudWatch Logs is how the deck's tutorial verifies the rule fired)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from . import LabCheckError, check
from .aws import client, error_code, lambda_log_lines


def find_rule(name: str, bus: str = "default", hint: str = "Run the cell that creates it (put_rule).") -> dict:
    try:
        return client("events").describe_rule(Name=name, EventBusName=bus)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise LabCheckError(f"There is no EventBridge rule {name!r} on bus {bus!r} in your account. {hint}") from None
        raise


def read_rule_pattern(name: str, bus: str = "default") -> dict:
    found = find_rule(name, bus)
    raw = found.get("EventPattern")
    check(raw, f"Rule {name!r} has no EventPattern, so it does not select events. Give put_rule an "
               "EventPattern (a JSON string).")
    return json.loads(raw)


def list_rule_targets(name: str, bus: str = "default") -> list[dict]:
    find_rule(name, bus)
    return client("events").list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]


def find_target(name: str, suffix: str, fix: str, bus: str = "default") -> dict:
    found = list_rule_targets(name, bus)
    for tgt in found:
        if tgt["Arn"].endswith(suffix):
            return tgt
    have = ", ".join(t["Arn"] for t in found) or "none"
    raise LabCheckError(f"Rule {name!r} has no target ending in {suffix!r} (targets: {have}). {fix}")


def read_log_messages(function_name: str, timeout: float = 20.0, contains: str | None = None) -> list[str]:
    """The function's log lines, polled until one contains ``contains`` (or any line exists)."""
    until = (lambda lines: any(contains in line for line in lines)) if contains else None
    return lambda_log_lines(function_name, until=until, timeout=timeout)


def delete_rule(name: str, bus: str = "default") -> bool:
    """Delete the learner's rule ``name`` (its targets first, as EventBridge requires), if it exists."""
    events = client("events")
    try:
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return False
        raise
    if ids:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=ids)
    events.delete_rule(Name=name, EventBusName=bus)
    return True


def check_bucket_sends_to_eventbridge(bucket: str, timeout: float = 10.0) -> None:
    """The bucket puts its events on the default bus.

    AWS answers GetBucketNotificationConfiguration with ``EventBridgeConfiguration``; the
    emulator stores the setting but leaves it out of that answer, so when it is missing the
    check asks the bus itself: a temporary rule and queue of the grader's, one probe object
    under ``edalab-grader-probe/``, then everything removed again.
    """
    import uuid

    from .sqs import delete_queues, find_queue_arn
    from .aws import wait_for

    s3 = client("s3")
    try:
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise LabCheckError(f"There is no bucket {bucket!r} in your account: create it with "
                                "s3.create_bucket(Bucket=...).") from None
        raise
    if "EventBridgeConfiguration" in config:
        return
    events, sqs = client("events"), client("sqs")
    tag = uuid.uuid4().hex[:8]
    rule_name, queue_name, key = f"edalab-grader-probe-{tag}", f"edalab-grader-probe-{tag}", f"edalab-grader-probe/{tag}"
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = find_queue_arn(queue_name)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sqs:SendMessage", "Resource": arn}]})})
    events.put_rule(Name=rule_name, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [key]}}}))
    events.put_targets(Rule=rule_name, Targets=[{"Id": "probe", "Arn": arn}])
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"probe")
        got = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), timeout)
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
        delete_rule(rule_name)
        delete_queues(queue_name)
    check(got, f"Bucket {bucket!r} does not send its events to EventBridge: call "
               "put_bucket_notification_configuration(Bucket=..., NotificationConfiguration="
               "{'EventBridgeConfiguration': {}}).")
