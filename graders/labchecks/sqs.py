"""Checks on the learner's SQS queues: existence, attributes, redrive, and what they hold.

Counting uses the queue's approximate-number attributes, which do not disturb the messages;
``peek`` receives with a zero visibility timeout only where the bodies matter (on AWS the
counts are eventually consistent, so every count is polled).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from . import LabCheckError, check
from .aws import client, error_code, wait_for

_COUNTS = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def find_queue_url(name: str, hint: str = "Run the cell that creates it, then this check again.") -> str:
    """URL of the learner's queue ``name``, or a LabCheckError naming it."""
    try:
        return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise LabCheckError(f"There is no queue named {name!r} in your account. {hint}") from None
        raise


def queue_attributes(name: str) -> dict:
    url = find_queue_url(name)
    return client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def find_queue_arn(name: str) -> str:
    return queue_attributes(name)["QueueArn"]


def check_attribute(name: str, attribute: str, expected, fix: str) -> None:
    actual = queue_attributes(name).get(attribute)
    check(str(actual).lower() == str(expected).lower(),
          f"Queue {name!r} has {attribute}={actual!r}, expected {expected!r}. {fix}")


def message_counts(name: str) -> dict:
    """{"visible": n, "in_flight": n, "delayed": n} for the learner's queue ``name``."""
    attrs = client("sqs").get_queue_attributes(QueueUrl=find_queue_url(name), AttributeNames=list(_COUNTS.values()))
    return {key: int(attrs["Attributes"].get(attr, 0)) for key, attr in _COUNTS.items()}


def check_count(name: str, expected: int, fix: str, kind: str = "visible", timeout: float = 10.0) -> None:
    """The queue holds ``expected`` messages of ``kind`` (polled, since delivery is async)."""
    last = {}

    def probe():
        last.update(message_counts(name))
        return last[kind] == expected

    wait_for(probe, timeout)
    label = {"visible": "waiting", "in_flight": "in flight", "delayed": "delayed"}[kind]
    check(last[kind] == expected,
          f"Queue {name!r} has {last[kind]} {label} message(s), expected {expected}. {fix}")


def read_redrive_policy(name: str) -> dict:
    raw = queue_attributes(name).get("RedrivePolicy")
    check(raw, f"Queue {name!r} has no RedrivePolicy, so failing messages would never reach a "
               "dead-letter queue. Set the RedrivePolicy attribute (deadLetterTargetArn and "
               "maxReceiveCount) with create_queue or set_queue_attributes.")
    return json.loads(raw)


def check_redrive(name: str, dlq_name: str, max_receive_count: int) -> None:
    policy = read_redrive_policy(name)
    dlq_arn = find_queue_arn(dlq_name)
    check(policy.get("deadLetterTargetArn") == dlq_arn,
          f"Queue {name!r} sends failures to {policy.get('deadLetterTargetArn')!r}, expected the "
          f"ARN of {dlq_name!r} ({dlq_arn}). Use get_queue_attributes(..., AttributeNames="
          "['QueueArn']) on the dead-letter queue to get its ARN.")
    check(int(policy.get("maxReceiveCount", 0)) == max_receive_count,
          f"Queue {name!r} has maxReceiveCount={policy.get('maxReceiveCount')!r}, expected "
          f"{max_receive_count}: a message should be tried {max_receive_count} times before it moves "
          "to the dead-letter queue.")


def peek_messages(name: str, expected: int | None = None, rounds: int = 5) -> list[dict]:
    """Visible messages, received with VisibilityTimeout=0 so they stay available to the
    learner's consumer. Each peek counts as a receive (it raises ApproximateReceiveCount and
    brings a redrive policy's maxReceiveCount closer), so it stops as soon as it has
    ``expected`` messages or a round brings nothing new."""
    sqs = client("sqs")
    url = find_queue_url(name)
    seen: dict[str, dict] = {}
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                  MessageAttributeNames=["All"], AttributeNames=["All"],
                                  WaitTimeSeconds=1).get("Messages", [])
        new = [m for m in got if m["MessageId"] not in seen]
        for msg in new:
            seen[msg["MessageId"]] = msg
        if not new or (expected is not None and len(seen) >= expected):
            break
    return list(seen.values())


def drain_messages(name: str, timeout: float = 10.0, expected: int | None = None) -> list[dict]:
    """Receive and delete every message of the queue (waiting up to ``timeout`` for ``expected``)."""
    sqs = client("sqs")
    url = find_queue_url(name)
    out: list[dict] = []

    def probe():
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageAttributeNames=["All"], AttributeNames=["All"]).get("Messages", [])
        for msg in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        out.extend(got)
        return expected is not None and len(out) >= expected

    wait_for(probe, timeout, interval=0)
    return out


def delete_queues(*names: str) -> list[str]:
    """Delete the learner's queues ``names`` that exist (a lab's idempotent setup and clean-up).

    On AWS a deleted name can be re-used only after 60 seconds; the emulator allows it at once.
    """
    sqs = client("sqs")
    gone = []
    for name in names:
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if error_code(exc) in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                continue
            raise
        sqs.delete_queue(QueueUrl=url)
        gone.append(name)
    return gone
