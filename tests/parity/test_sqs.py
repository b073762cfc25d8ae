"""SQS behaviours the queue notebooks and labs (lab05-lab07) rely on."""

from __future__ import annotations

import json
import threading
import time

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


@pytest.mark.moto_gap("a long poll that started before a group's message was received hands "
                      "out the next message of that group")
def test_fifo_waiting_long_poll_respects_a_group_received_meanwhile(aws, unique):
    """AWS FIFO delivery logic: "When you receive a message with a message group ID, no more
    messages for the same message group ID are returned unless you delete the message or it
    becomes visible." That holds for a long poll already waiting when another consumer
    received the group's first message: two consumers wait, a1 and a2 arrive, only one of
    them gets a message."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true")
    got: list = []

    def consume():
        got.extend(aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                              WaitTimeSeconds=6).get("Messages", []))

    consumers = [threading.Thread(target=consume) for _ in range(2)]
    for consumer in consumers:
        consumer.start()
    time.sleep(2.5)  # both polls are waiting on the empty queue (moto's gap needs that)
    for body in ("a1", "a2"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="A")
    for consumer in consumers:
        consumer.join()
    assert [m["Body"] for m in got] == ["a1"]


@pytest.mark.moto_gap("one receive returns messages in send order across groups, not group "
                      "by group")
def test_fifo_receive_returns_a_group_together_before_the_next(aws, unique):
    """AWS FIFO delivery logic: "When receiving messages from a FIFO queue with multiple message
    group IDs, Amazon SQS first attempts to return as many messages with the same message
    group ID as possible. This allows other consumers to process messages with a different
    message group ID." """
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true")
    for body, group in (("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B"), ("a3", "A")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["a1", "a2", "a3", "b1", "b2"]


@pytest.mark.moto_gap("DelaySeconds=0 on a FIFO message overrides the queue's delay")
def test_fifo_message_delay_zero_keeps_the_queue_delay(aws, unique):
    """AWS SendMessage, DelaySeconds: "If you don't specify a value, the default value for the
    queue applies. When you set FifoQueue, you can't set DelaySeconds per message. You can set
    this parameter only on a queue level." A 0 on the message does not cancel the queue's
    delay."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true", DelaySeconds=2)
    sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A", DelaySeconds=0)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    assert [m["Body"] for m in got.get("Messages", [])] == ["a1"]


@pytest.mark.moto_gap("a FIFO receipt handle whose visibility timeout passed still deletes")
def test_fifo_delete_with_an_expired_receipt_handle_is_refused(aws, unique):
    """AWS (Knowledge Center, "ReceiptHandleIsInvalid" and "InvalidParameterValue" errors): "For
    FIFO queues, a receipt handle expires after a visibility timeout period. [...] If you try
    to delete the message outside of the visibility timeout period, then you see an error
    similar to the following: [...] (InvalidParameterValue) [...] Reason: The receipt handle
    has expired." The message stays, and the next receive gets it with a new handle."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("payments"), ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="TakePayment", MessageGroupId="o-1")
    got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    time.sleep(1.5)
    with pytest.raises(ClientError) as err:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
    assert again["Body"] == "TakePayment"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])


def test_fifo_extending_the_head_keeps_the_group_held(aws, unique):
    """AWS: "When you receive a message with a message group ID, no more messages for the same
    message group ID are returned unless you delete the message or it becomes visible", and
    ChangeMessageVisibility "can extend [...] the visibility timeout period for inflight
    messages" (Knowledge Center). Messages of one receive whose timeout runs out stay behind
    the group's head while its visibility is extended."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"), ContentBasedDeduplication="true")
    for body in ("a1", "a2"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="A")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1)
    head = got["Messages"][0]
    assert head["Body"] == "a1"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=head["ReceiptHandle"],
                                  VisibilityTimeout=30)
    time.sleep(1.5)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                               WaitTimeSeconds=1).get("Messages", []) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=head["ReceiptHandle"])
    after = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [m["Body"] for m in after.get("Messages", [])] == ["a2"]


@pytest.mark.moto_gap("a message whose deduplication id is already in the queue is dropped, "
                      "whatever the deduplication scope")
def test_fifo_high_throughput_set_after_creation_dedups_per_group(aws, unique):
    """AWS, high throughput for FIFO queues: "Set Deduplication scope to Message group" and
    "Set FIFO throughput limit to Per message group ID"; DeduplicationScope "Specifies whether
    message deduplication occurs at the message group or queue level". Set with
    SetQueueAttributes on an existing queue, the same deduplication id in two groups is two
    messages."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
    for group in ("A", "B", "A"):
        sqs.send_message(QueueUrl=url, MessageBody=f"order {group}", MessageGroupId=group,
                         MessageDeduplicationId="same")
    got = sorted(m["Body"] for m in receive_all(sqs, url, wait=2))
    assert got == ["order A", "order B"]


def test_purge_queue_clears_the_fifo_deduplication_window(aws, unique):
    """AWS PurgeQueue: "Deletes available messages in a queue (including in-flight messages)
    specified by the QueueURL parameter." The deduplication history goes with them: a message
    sent again after the purge with the same deduplication id is delivered (the behaviour
    recorded on AWS; the documentation does not mention deduplication)."""
    sqs = aws("sqs")
    url = _fifo(sqs, unique("orders"))
    sqs.send_message(QueueUrl=url, MessageBody="OrderPlaced 1", MessageGroupId="o-1",
                     MessageDeduplicationId="order-1")
    sqs.purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="OrderPlaced 1 again", MessageGroupId="o-1",
                     MessageDeduplicationId="order-1")
    assert [m["Body"] for m in receive_all(sqs, url, expect=1)] == ["OrderPlaced 1 again"]


@pytest.mark.moto_gap("one bad entry fails the whole SendMessageBatch")
def test_send_message_batch_fails_only_the_bad_entry(aws, unique):
    """AWS SendMessageBatch: "The result of sending each message is reported individually in
    the response. Because the batch request can result in a combination of successful and
    unsuccessful actions, you should check for batch errors even when the call returns an
    HTTP status code of 200." An entry over the queue's MaximumMessageSize fails alone."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("orders"),
                           Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok-1", "MessageBody": "OrderPlaced 1"},
        {"Id": "too-big", "MessageBody": "x" * 2000},
        {"Id": "ok-2", "MessageBody": "OrderPlaced 2"}])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["ok-1", "ok-2"]
    assert [(e["Id"], e["SenderFault"]) for e in resp["Failed"]] == [("too-big", True)]
    assert resp["Failed"][0]["Code"] == "InvalidParameterValue"
    got = sorted(m["Body"] for m in receive_all(sqs, url, expect=2))
    assert got == ["OrderPlaced 1", "OrderPlaced 2"]


@pytest.mark.moto_gap("DeleteMessageBatch and ChangeMessageVisibilityBatch accept more than "
                      "ten entries and invalid entry ids")
def test_delete_and_visibility_batches_check_count_and_ids(aws, unique):
    """AWS DeleteMessageBatch / ChangeMessageVisibilityBatch errors: "TooManyEntriesInBatchRequest
    - The batch request contains more entries than permissible." (ten) and "InvalidBatchEntryId
    - The Id of a batch entry in a batch request doesn't abide by the specification." - an Id
    holds "alphanumeric characters, hyphens(-), and underscores (_)"."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("orders"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="OrderPlaced")
    handle = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["ReceiptHandle"]
    eleven = [{"Id": f"e{i}", "ReceiptHandle": handle + str(i)} for i in range(11)]
    calls = (
        lambda entries: sqs.delete_message_batch(QueueUrl=url, Entries=entries),
        lambda entries: sqs.change_message_visibility_batch(
            QueueUrl=url, Entries=[{**e, "VisibilityTimeout": 5} for e in entries]))
    for call in calls:
        with pytest.raises(ClientError) as err:
            call(eleven)
        assert err.value.response["Error"]["Code"].endswith("TooManyEntriesInBatchRequest")
        with pytest.raises(ClientError) as err:
            call([{"Id": "not valid!", "ReceiptHandle": handle}])
        assert err.value.response["Error"]["Code"].endswith("InvalidBatchEntryId")
    done = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "m-1", "ReceiptHandle": handle}])
    assert [e["Id"] for e in done["Successful"]] == ["m-1"]


@pytest.mark.moto_gap("characters outside SQS's set, sizes in bytes with attributes, empty "
                      "attribute values, malformed ids and a deduplication id on a standard "
                      "queue are accepted")
def test_send_message_refuses_what_aws_refuses(aws, unique):
    """AWS SendMessage, MessageBody: "The following Unicode characters are allowed [...] #x9 |
    #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message contains
    characters outside the allowed set, Amazon SQS rejects the message and returns an
    InvalidMessageContents error." MaximumMessageSize: "The limit of how many bytes a message
    can contain"; MessageDeduplicationId / MessageGroupId: "can contain alphanumeric characters
    (a-z, A-Z, 0-9) and punctuation" and "This parameter applies only to FIFO
    (first-in-first-out) queues" (the deduplication id)."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("orders"),
                           Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    fifo = _fifo(sqs, unique("orders"))

    def refused(code, **kwargs):
        with pytest.raises(ClientError) as err:
            sqs.send_message(**kwargs)
        assert err.value.response["Error"]["Code"].endswith(code), kwargs

    refused("InvalidMessageContents", QueueUrl=url, MessageBody="Order\x00Placed")
    refused("InvalidParameterValue", QueueUrl=url, MessageBody="é" * 600)  # 1,200 bytes
    refused("InvalidParameterValue", QueueUrl=url, MessageBody="x" * 1000, MessageAttributes={
        "note": {"DataType": "String", "StringValue": "y" * 100}})
    refused("InvalidParameterValue", QueueUrl=url, MessageBody="x", MessageAttributes={
        "note": {"DataType": "String", "StringValue": ""}})
    refused("InvalidParameterValue", QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    refused("InvalidParameterValue", QueueUrl=fifo, MessageBody="x", MessageGroupId="o-1",
            MessageDeduplicationId="order 1")
    refused("InvalidParameterValue", QueueUrl=fifo, MessageBody="x", MessageGroupId="é",
            MessageDeduplicationId="order-1")
    sqs.send_message(QueueUrl=url, MessageBody="Order\tPlaced ✓")
    sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="o-1",
                     MessageDeduplicationId="order#1/v2")
    assert [m["Body"] for m in receive_all(sqs, url, expect=1)] == ["Order\tPlaced ✓"]


@pytest.mark.moto_gap("a dead-lettered message has no DeadLetterQueueSourceArn")
def test_dead_lettered_message_names_its_source_queue(aws, unique):
    """AWS ReceiveMessage, MessageSystemAttributeNames: "DeadLetterQueueSourceArn - Returns
    the source queue ARN from where the message was moved to the DLQ.\""""
    sqs = aws("sqs")
    dlq = sqs.create_queue(QueueName=unique("payments-dlq"))["QueueUrl"]
    url = sqs.create_queue(QueueName=unique("payments"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": _arn(sqs, dlq),
                                     "maxReceiveCount": "1"})})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="TakePayment")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
    dead = receive_all(sqs, dlq, expect=1)
    assert [m["Body"] for m in dead] == ["TakePayment"]
    assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"] == _arn(sqs, url)
