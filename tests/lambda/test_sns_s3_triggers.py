"""SNS subscriptions and S3 notifications invoke functions asynchronously, with AWS's events."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

RECORDER = """
    import json
    def lambda_handler(event, context):
        print("RESULT " + json.dumps(event))
"""


def function_arn(aws, name) -> str:
    return aws("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def test_sns_lambda_subscription_delivers_the_sns_event(aws, make_function, results, unique, wait):
    """"Amazon SNS invokes your function asynchronously with an event that contains a message and
    metadata": Records[].EventSource "aws:sns", EventSubscriptionArn, and Sns with Type,
    MessageId, TopicArn, Subject, Message, Timestamp, Signature*, MessageAttributes.
    (Using Lambda with Amazon SNS)"""
    sns, lam = aws("sns"), aws("lambda")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    name = make_function(RECORDER)
    arn = function_arn(aws, name)
    lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)["SubscriptionArn"]
    published = sns.publish(TopicArn=topic, Message='{"order": 9}', Subject="OrderPlaced",
                            MessageAttributes={"kind": {"DataType": "String", "StringValue": "new"}})
    event = wait(lambda: results(name), what="the SNS event")[0]
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    msg = record["Sns"]
    assert msg["Type"] == "Notification"
    assert msg["MessageId"] == published["MessageId"]
    assert msg["TopicArn"] == topic
    assert msg["Subject"] == "OrderPlaced"
    assert msg["Message"] == '{"order": 9}'
    assert msg["MessageAttributes"] == {"kind": {"Type": "String", "Value": "new"}}
    assert msg["Timestamp"].endswith("Z") and msg["Signature"] and msg["SigningCertUrl"]


def test_sns_filter_policy_applies_to_lambda_subscriptions(aws, make_function, results, unique, wait):
    """"By default, an Amazon SNS topic subscriber receives every message that's published to the
    topic. To receive a subset of the messages, a subscriber must assign a filter policy to the
    topic subscription." (Amazon SNS message filtering)"""
    sns = aws("sns")
    topic = sns.create_topic(Name=unique("payments"))["TopicArn"]
    name = make_function(RECORDER)
    aws("lambda").add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                                 Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn(aws, name),
                  Attributes={"FilterPolicy": json.dumps({"status": ["failed"]})})
    for status in ("taken", "failed", "taken"):
        sns.publish(TopicArn=topic, Message=status,
                    MessageAttributes={"status": {"DataType": "String", "StringValue": status}})
    sns.publish(TopicArn=topic, Message="last",
                MessageAttributes={"status": {"DataType": "String", "StringValue": "failed"}})
    events = wait(lambda: len(results(name)) >= 2 and results(name), what="two matching messages")
    assert sorted(e["Records"][0]["Sns"]["Message"] for e in events) == ["failed", "last"]


def test_s3_object_created_invokes_the_function(aws, make_function, results, unique, wait, account):
    """S3 event notifications to Lambda: "Amazon S3 invokes your function asynchronously with an
    event that contains details about the object": eventSource "aws:s3", eventName
    "ObjectCreated:Put", s3.bucket.name/arn, s3.object.key (URL-encoded), size, eTag, sequencer.
    Filters by key prefix and suffix apply. (Using Lambda with Amazon S3; S3 event structure)"""
    s3, lam = aws("s3"), aws("lambda")
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    name = make_function(RECORDER)
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
                       SourceAccount=account)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "Id": "images", "LambdaFunctionArn": function_arn(aws, name),
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                               {"Name": "suffix", "Value": ".jpg"}]}},
        }]})
    s3.put_object(Bucket=bucket, Key="in/notes.txt", Body=b"not an image")
    put = s3.put_object(Bucket=bucket, Key="in/my photo.jpg", Body=b"\xff\xd8 jpeg bytes")
    event = wait(lambda: results(name), what="the S3 event")[0]
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == "images"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert record["s3"]["object"]["key"] == "in/my+photo.jpg"
    assert record["s3"]["object"]["size"] == len(b"\xff\xd8 jpeg bytes")
    assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')
    assert record["s3"]["object"]["sequencer"]
    assert record["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    assert results(name) == [event]  # notes.txt did not match the filter


def test_add_permission_is_accepted_and_visible_in_the_policy(aws, make_function, account):
    """AddPermission "Grants a principal permission to use a function"; a statement id already in
    the policy is a ResourceConflictException. (AddPermission API)"""
    lam = aws("lambda")
    name = make_function(RECORDER)
    statement = json.loads(lam.add_permission(
        FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=f"arn:aws:events:us-east-1:{account}:rule/order-placed")["Statement"])
    assert statement["Sid"] == "events"
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["events"]
    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com")
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"


def test_eventbridge_rule_with_a_lambda_target(aws, make_function, results, unique, wait, account):
    """"EventBridge invokes your function asynchronously with the matched event" - the event
    envelope (version, id, detail-type, source, account, time, region, resources, detail) is the
    function's input. (Using Lambda with EventBridge; S3 object created tutorial)"""
    events, lam, s3 = aws("events"), aws("lambda"), aws("s3")
    bucket = unique("photos")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    name = make_function(RECORDER)
    rule = unique("object-created")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}}}))["RuleArn"]
    lam.add_permission(FunctionName=name, StatementId="eventbridge", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function_arn(aws, name)}])
    s3.put_object(Bucket=bucket, Key="cat.jpg", Body=b"meow")
    event = wait(lambda: results(name), what="the EventBridge event")[0]
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["account"] == account and event["region"] == "us-east-1"
    assert event["detail"]["bucket"]["name"] == bucket
    assert event["detail"]["object"]["key"] == "cat.jpg"
