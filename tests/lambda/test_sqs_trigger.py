"""SQS event source mappings: a real poller with AWS's batching, deletion, retry and DLQ rules."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

RECORDER = """
    import json
    def lambda_handler(event, context):
        print("RESULT " + json.dumps(event["Records"]))
"""


def queue(sqs, name, **attributes):
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def depth(sqs, url) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_messages_are_delivered_in_awss_event_shape_and_deleted(aws, make_function, results, unique,
                                                                wait, account):
    """"Lambda polls the queue and invokes your Lambda function synchronously with an event that
    contains queue messages ... When your function successfully processes a batch, Lambda deletes
    its messages from the queue." The record holds messageId, receiptHandle, body, attributes,
    messageAttributes, md5OfBody, eventSource "aws:sqs", eventSourceARN, awsRegion.
    (Using Lambda with Amazon SQS)"""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = queue(sqs, unique("orders"))
    name = make_function(RECORDER)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
    assert mapping["BatchSize"] == 10
    sent = sqs.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "OrderPlaced"}})
    batches = wait(lambda: results(name), what="the handler to run")
    record = batches[0][0]
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == '{"order": 1}'
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["receiptHandle"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "OrderPlaced", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    wait(lambda: depth(sqs, url) == (0, 0), what="the message to be deleted")


def test_batch_size_and_batching_window(aws, make_function, results, unique, wait):
    """"BatchSize - The maximum number of records in each batch that Lambda pulls from your
    stream or queue and sends to your function." "MaximumBatchingWindowInSeconds - The maximum
    amount of time, in seconds, that Lambda spends gathering records before invoking the
    function." (CreateEventSourceMapping)"""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = queue(sqs, unique("small-batches"))
    name = make_function(RECORDER)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=3)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(9)])
    batches = wait(lambda: sum(map(len, results(name))) >= 9 and results(name), what="nine messages")
    assert max(len(b) for b in batches) <= 3
    assert sorted(int(r["body"]) for b in batches for r in b) == list(range(9))

    url, arn = queue(sqs, unique("windowed"))
    windowed = make_function(RECORDER)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=windowed, BatchSize=50,
                                    MaximumBatchingWindowInSeconds=3)
    for i in range(4):  # trickle in, well inside the window
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        time.sleep(0.1)
    batches = wait(lambda: results(windowed), what="the windowed batch")
    assert [r["body"] for r in batches[0]] == ["m0", "m1", "m2", "m3"]


def test_failed_batches_return_after_the_visibility_timeout_then_go_to_the_dlq(
        aws, make_function, results, unique, wait):
    """"If your function code caused the error, Lambda will stop processing and retrying the
    invocation ... After your queue's visibility timeout runs out, the message will again
    reappear in the queue." With a redrive policy, "after the maxReceiveCount is reached, the
    message is moved to the dead-letter queue". (Lambda SQS error handling; SQS DLQs)"""
    sqs, lam = aws("sqs"), aws("lambda")
    dlq_url, dlq_arn = queue(sqs, unique("orders-dlq"))
    url, arn = queue(sqs, unique("orders"), VisibilityTimeout=2, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    name = make_function("""
        import json
        def lambda_handler(event, context):
            for r in event["Records"]:
                print("RESULT " + json.dumps({"body": r["body"], "receives": r["attributes"]["ApproximateReceiveCount"], "at": __import__("time").time()}))
            raise RuntimeError("cannot process")
    """, timeout=1)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    moved = wait(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
                 timeout=40, what="the message in the DLQ")
    assert moved[0]["Body"] == "poison"
    attempts = results(name)
    assert [a["receives"] for a in attempts] == ["1", "2"]
    assert attempts[1]["at"] - attempts[0]["at"] >= 1.5  # not before the visibility timeout


def test_report_batch_item_failures(aws, make_function, results, unique, wait):
    """"To turn on partial batch responses, specify ReportBatchItemFailures for the
    FunctionResponseTypes action" - then only the messages listed in batchItemFailures become
    visible again; an itemIdentifier that is not a message ID of the batch makes the whole batch
    a failure. (Lambda SQS error handling)"""
    sqs, lam = aws("sqs"), aws("lambda")
    dlq_url, dlq_arn = queue(sqs, unique("dlq"))
    url, arn = queue(sqs, unique("partial"), VisibilityTimeout=3, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    name = make_function("""
        import json
        def lambda_handler(event, context):
            print("RESULT " + json.dumps([r["body"] for r in event["Records"]]))
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                          for r in event["Records"] if r["body"].startswith("bad")]}
    """, timeout=1)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                    MaximumBatchingWindowInSeconds=1,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "good-1"}, {"Id": "2", "MessageBody": "bad-1"},
        {"Id": "3", "MessageBody": "good-2"}])
    moved = wait(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
                 timeout=30, what="the failed message in the DLQ")
    assert [m["Body"] for m in moved] == ["bad-1"]
    seen = [body for batch in results(name) for body in batch]
    assert seen.count("good-1") == 1 and seen.count("good-2") == 1 and seen.count("bad-1") == 2

    from edalab.aws.lambda_ import _batch_item_failures  # the documented edge cases
    ids = {"a", "b"}
    assert _batch_item_failures(b'{"batchItemFailures": []}', ids) == set()
    assert _batch_item_failures(b"null", ids) == set()
    assert _batch_item_failures(b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', ids) == ids
    assert _batch_item_failures(b'{"batchItemFailures": [{"itemIdentifier": ""}]}', ids) == ids
    assert _batch_item_failures(b'{"batchItemFailures": [{"id": "a"}]}', ids) == ids
    assert _batch_item_failures(b"not json", ids) == ids


def test_fifo_order_per_message_group(aws, make_function, results, unique, wait):
    """"For FIFO queues, Lambda ... guarantees that messages with the same message group ID are
    processed in order", one batch at a time per group. (Using Lambda with Amazon SQS)"""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = queue(sqs, unique("orders") + ".fifo", FifoQueue="true",
                     ContentBasedDeduplication="true")
    name = make_function("""
        import json, time
        def lambda_handler(event, context):
            time.sleep(0.05)
            print("RESULT " + json.dumps([[r["attributes"]["MessageGroupId"], r["body"]] for r in event["Records"]]))
    """)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=3)
    for i in range(12):
        for group in ("customer-a", "customer-b"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}:{i}", MessageGroupId=group)
    pairs = wait(lambda: sum(map(len, results(name))) >= 24 and
                 [p for batch in results(name) for p in batch], what="24 messages")
    for group in ("customer-a", "customer-b"):
        assert [body for g, body in pairs if g == group] == [f"{group}:{i}" for i in range(12)]


def test_disable_enable_and_delete_a_mapping(aws, make_function, results, unique, wait):
    """"Enabled - When true, the event source mapping is active. When false, Lambda pauses
    polling and invocation." DeleteEventSourceMapping: "Deletes an event source mapping."
    (UpdateEventSourceMapping, DeleteEventSourceMapping)"""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = queue(sqs, unique("pausable"))
    name = make_function(RECORDER)
    uuid_ = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="first")
    wait(lambda: results(name), what="the first message")
    assert lam.update_event_source_mapping(UUID=uuid_, Enabled=False)["State"] == "Disabled"
    sqs.send_message(QueueUrl=url, MessageBody="while paused")
    time.sleep(2)
    assert depth(sqs, url) == (1, 0)   # nobody took it
    lam.update_event_source_mapping(UUID=uuid_, Enabled=True)
    wait(lambda: len(results(name)) == 2, what="the paused message")
    assert results(name)[1][0]["body"] == "while paused"
    lam.delete_event_source_mapping(UUID=uuid_)
    sqs.send_message(QueueUrl=url, MessageBody="after delete")
    time.sleep(2)
    assert depth(sqs, url) == (1, 0)
    assert len(results(name)) == 2


def test_mapping_validation(aws, make_function, unique):
    """CreateEventSourceMapping refuses what AWS refuses: a queue whose visibility timeout is
    shorter than the function timeout, BatchSize over 10 without a batching window, and a second
    mapping of the same queue to the same function (ResourceConflictException)."""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = queue(sqs, unique("q"), VisibilityTimeout=5)
    slow = make_function(RECORDER, timeout=30)
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=slow)
    assert "Queue visibility timeout: 5 seconds is less than Function timeout: 30 seconds" in str(err.value)
    name = make_function(RECORDER)
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=100)
    assert "Maximum batch window in seconds must be greater than 0" in str(err.value)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
