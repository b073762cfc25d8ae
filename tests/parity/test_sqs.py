"""SQS behaviours the queue notebooks and labs (lab05-lab07) rely on."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.exceptions import ClientError

from parity_helpers import receive_all, wait_for


def _fifo(sqs, unique_name, **attrs):
    attributes = {"FifoQueue": "true", **{k: str(v) for k, v in attrs.items()}}
    return sqs.create_queue(QueueName=f"{unique_name}.fifo", Attributes=attributes)["QueueUrl"]


@pytest.mark.moto_gap("a duplicate is dropped only while the first copy is still in the queue")
def test_fifo_dedup_lasts_five_minutes_after_delete(aws, unique):
    """AWS: "If a message with a particular message deduplication ID is sent successfully, any
    messages sent with the same message deduplication ID are accepted successfully but aren't
    delivered during the 5-minute deduplication interval." (SQS Developer Guide, Using the
    message deduplication ID). The interval does not end when the consumer deletes the first
    copy - that is what makes a retried send safe in the FIFO lab."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"))
    first = sqs.send_message(QueueUrl=url, MessageBody="OrderPlaced 1", MessageGroupId="o-1",
                             MessageDeduplicationId="order-1")
    assert [m["Body"] for m in receive_all(sqs, url, expect=1)] == ["OrderPlaced 1"]
    again = sqs.send_message(QueueUrl=url, MessageBody="OrderPlaced 1", MessageGroupId="o-1",
                             MessageDeduplicationId="order-1")
    assert again["MessageId"] == first["MessageId"]
    assert receive_all(sqs, url, wait=2) == []


@pytest.mark.moto_gap("content-based duplicates are delivered again once the first is deleted")
def test_fifo_content_based_dedup_lasts_after_delete(aws, unique):
    """AWS: "ContentBasedDeduplication – Enables content-based deduplication. [...] Amazon SQS
    uses a SHA-256 hash to generate the MessageDeduplicationId using the body of the message"
    and such duplicates "aren't delivered during the 5-minute deduplication interval"."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("payments"), ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody='{"order": 7}', MessageGroupId="o-7")
    assert len(receive_all(sqs, url, expect=1)) == 1
    sqs.send_message(QueueUrl=url, MessageBody='{"order": 7}', MessageGroupId="o-7")
    sqs.send_message(QueueUrl=url, MessageBody='{"order": 8}', MessageGroupId="o-7")
    assert [m["Body"] for m in receive_all(sqs, url, wait=2)] == ['{"order": 8}']


def test_fifo_dedup_is_per_queue(aws, unique):
    """AWS: deduplication applies to "the message deduplication ID [...] sent successfully" to
    a queue - the same id on another FIFO queue is a different message there."""
    sqs = aws("sqs")
    a = _fifo(sqs, unique("a"))
    b = _fifo(sqs, unique("b"))
    for url in (a, b):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                         MessageDeduplicationId="same")
    assert len(receive_all(sqs, a, expect=1)) == 1
    assert len(receive_all(sqs, b, expect=1)) == 1


def test_fifo_message_group_is_blocked_while_in_flight(aws, unique):
    """AWS FIFO delivery logic: "When you receive a message with a message group ID, no more
    messages for the same message group ID are returned unless you delete the message or it
    becomes visible." Other groups keep flowing."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true")
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert [m["Body"] for m in first] == ["a1"]
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in rest.get("Messages", [])] == ["b1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    after = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in after.get("Messages", [])] == ["a2"]


@pytest.mark.moto_gap("an empty message body is accepted")
def test_empty_message_body_is_rejected(aws, unique):
    """AWS SendMessage, MessageBody: "The minimum size is one character." An empty body is a
    missing parameter."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("empty"))["QueueUrl"]
    with pytest.raises(ClientError) as err:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert err.value.response["Error"]["Code"] == "MissingParameter"


@pytest.mark.moto_gap("a .fifo name without FifoQueue=true creates a standard queue")
def test_fifo_name_needs_fifo_attribute(aws, unique):
    """AWS CreateQueue: "If you don't specify the FifoQueue attribute, Amazon SQS creates a
    standard queue", and a standard queue name may hold only "alphanumeric characters,
    hyphens (-), and underscores (_)" - so ``x.fifo`` without the attribute is refused."""
    sqs = aws("sqs")
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName=f"{unique('shipping')}.fifo")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_fifo_attribute_needs_fifo_suffix(aws, unique):
    """AWS CreateQueue, QueueName: "A FIFO queue name must end with the .fifo suffix.\""""
    sqs = aws("sqs")
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName=unique("shipping"), Attributes={"FifoQueue": "true"})
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_visibility_timeout_hides_and_change_visibility_shows(aws, unique):
    """AWS: "Immediately after a message is received, it remains in the queue. To prevent other
    consumers from processing the message again, Amazon SQS sets a visibility timeout";
    ChangeMessageVisibility "Changes the visibility timeout of a specified message in a queue
    to a new value. [...] The minimum is 0 seconds." - 0 hands the message back at once."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("stock"),
                           Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="ReserveStock")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert again[0]["MessageId"] == got[0]["MessageId"]


def test_redrive_to_dead_letter_queue(aws, unique):
    """AWS: "The maxReceiveCount is the number of times a consumer can receive a message from a
    source queue before it is moved to a dead-letter queue.\""""
    sqs = aws("sqs")
    dlq = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=unique("payments"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})[
        "QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="TakePayment")
    first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    assert [m["Body"] for m in receive_all(sqs, dlq, expect=1)] == ["TakePayment"]


def test_fifo_queue_redrives_to_fifo_dead_letter_queue(aws, unique):
    """AWS: "The dead-letter queue of a FIFO queue must also be a FIFO queue"; a message
    received maxReceiveCount times moves there, and ApproximateReceiveCount counts the
    receives."""
    sqs = aws("sqs")
    dlq = _fifo(sqs, unique("payments-dlq"))
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = _fifo(sqs, unique("payments"), ContentBasedDeduplication="true", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
    sqs.send_message(QueueUrl=url, MessageBody="TakePayment", MessageGroupId="o-1")
    for attempt in ("1", "2"):
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                  AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        assert got["Attributes"]["ApproximateReceiveCount"] == attempt
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"],
                                      VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    assert [m["Body"] for m in receive_all(sqs, dlq, expect=1)] == ["TakePayment"]


def test_long_polling_returns_a_message_sent_during_the_wait(aws, unique):
    """AWS: "Long polling [...] Amazon SQS sends a response after it collects at least one
    available message, up to the maximum number of messages specified in the request.\""""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("notify"))["QueueUrl"]
    sender = threading.Timer(1.0, lambda: aws("sqs").send_message(QueueUrl=url,
                                                                   MessageBody="SendEmail"))
    sender.start()
    try:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    finally:
        sender.join()
    assert [m["Body"] for m in got] == ["SendEmail"]


def _arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def _dead_letters(sqs, unique, bodies_in=("TakePayment 1", "TakePayment 2")):
    """A source queue with maxReceiveCount 1 whose messages have all gone to its DLQ."""
    dlq = sqs.create_queue(QueueName=unique("payments-dlq"))["QueueUrl"]
    url = sqs.create_queue(QueueName=unique("payments"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": _arn(sqs, dlq),
                                     "maxReceiveCount": "1"})})["QueueUrl"]
    for body in bodies_in:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1)["Messages"]:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"],
                                      VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    return url, dlq


def _finished_task(sqs, dlq_arn):
    def done():
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        return tasks if tasks and tasks[0]["Status"] != "RUNNING" else None
    return wait_for(done, timeout=20)


@pytest.mark.moto_gap("StartMessageMoveTask is not implemented (500)")
def test_dead_letter_redrive_back_to_the_source_queue(aws, unique):
    """AWS StartMessageMoveTask: "Starts an asynchronous task to move messages from a specified
    source queue to a specified destination queue"; DestinationArn: "If this field is left
    blank, the messages will be redriven back to their respective original source queues."
    ListMessageMoveTasks reports the task with its Status and
    ApproximateNumberOfMessagesMoved."""
    sqs = aws("sqs")
    url, dlq = _dead_letters(sqs, unique)
    dlq_arn = _arn(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    tasks = _finished_task(sqs, dlq_arn)
    assert tasks, "the move task never finished"
    assert tasks[0]["Status"] == "COMPLETED"
    assert tasks[0]["SourceArn"] == dlq_arn
    assert tasks[0]["ApproximateNumberOfMessagesMoved"] == 2
    got = sorted(m["Body"] for m in receive_all(sqs, url, expect=2))
    assert got == ["TakePayment 1", "TakePayment 2"]
    assert receive_all(sqs, dlq, wait=1) == []


@pytest.mark.moto_gap("StartMessageMoveTask is not implemented (500)")
def test_dead_letter_redrive_to_a_named_queue(aws, unique):
    """AWS StartMessageMoveTask, DestinationArn: "The ARN of the queue that receives the moved
    messages. You can use this field to specify the destination queue where you would like to
    redrive messages." A queue that is nobody's dead-letter queue cannot be a source: "This
    action is currently limited to supporting message redrive from queues that are configured
    as dead-letter queues (DLQs) of other Amazon SQS queues only.\""""
    sqs = aws("sqs")
    url, dlq = _dead_letters(sqs, unique, ("Refund 1",))
    parking = sqs.create_queue(QueueName=unique("parking"))["QueueUrl"]
    sqs.start_message_move_task(SourceArn=_arn(sqs, dlq), DestinationArn=_arn(sqs, parking))
    tasks = _finished_task(sqs, _arn(sqs, dlq))
    assert tasks and tasks[0]["Status"] == "COMPLETED"
    assert tasks[0]["DestinationArn"] == _arn(sqs, parking)
    assert [m["Body"] for m in receive_all(sqs, parking, expect=1)] == ["Refund 1"]
    assert receive_all(sqs, url, wait=1) == []
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn=_arn(sqs, parking))


@pytest.mark.moto_gap("after a VisibilityTimeout=0 receive, a FIFO group comes back partial "
                      "and out of order")
def test_fifo_peek_with_zero_visibility_keeps_the_group_in_order(aws, unique):
    """AWS ReceiveMessage, VisibilityTimeout: "The duration (in seconds) that the received
    messages are hidden from subsequent retrieve requests" - with 0 nothing is hidden, so the
    next receive sees the whole group again, and "messages that belong to the same message
    group are always processed one by one, in a strict order relative to the message group"."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true")
    for body in ("a1", "a2", "a3"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="A")
    peek = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert [m["Body"] for m in peek["Messages"]] == ["a1", "a2", "a3"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in again.get("Messages", [])] == ["a1", "a2", "a3"]
