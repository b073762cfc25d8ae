"""S3 behaviours the S3 -> EventBridge notebook cells rely on."""

from __future__ import annotations

import json

import pytest

from parity_helpers import allow_services, bodies, receive_all


@pytest.mark.moto_gap("GetBucketNotificationConfiguration leaves EventBridgeConfiguration out")
def test_eventbridge_configuration_is_read_back(aws, unique):
    """AWS GetBucketNotificationConfiguration returns the bucket's NotificationConfiguration,
    whose "EventBridgeConfiguration - Enables delivery of events to Amazon EventBridge." is an
    (empty) member: a notebook checks it to tell whether the bucket already sends its events
    to EventBridge."""
    s3 = aws("s3")
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["EventBridgeConfiguration"] == {}


@pytest.mark.moto_gap("S3 events reach the rules of every event bus, so a rule forwarding "
                      "default -> custom bus makes each event arrive twice")
def test_s3_events_go_to_the_default_bus_only(aws, unique):
    """AWS (EventBridge user guide, Events from AWS services): "When an AWS service in your
    account emits an event, it goes to your account's default event bus." A custom bus sees
    S3's events only through a rule that forwards them there: each upload reaches the custom
    bus's target once."""
    s3, events, sqs, iam = aws("s3"), aws("events"), aws("sqs"), aws("iam")
    url = sqs.create_queue(QueueName=unique("uploads"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    allow_services(sqs, arn, "events.amazonaws.com", url=url)
    bus_arn = events.create_event_bus(Name=unique("audit"))["EventBusArn"]
    bus = bus_arn.rsplit("/", 1)[-1]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "events.amazonaws.com"}}]}
    role = iam.create_role(RoleName=unique("forward"), AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role["Role"]["RoleName"], PolicyName="put",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "events:PutEvents",
                            "Resource": bus_arn}]}))
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    pattern = json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                          "detail": {"bucket": {"name": [bucket]}}})
    forward = unique("forward")
    events.put_rule(Name=forward, EventPattern=pattern)
    events.put_targets(Rule=forward, Targets=[{"Id": "bus", "Arn": bus_arn,
                                               "RoleArn": role["Role"]["Arn"]}])
    audit = unique("audit")
    events.put_rule(Name=audit, EventBusName=bus, EventPattern=pattern)
    events.put_targets(Rule=audit, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    s3.put_object(Bucket=bucket, Key="invoices/1.pdf", Body=b"%PDF")
    got = bodies(receive_all(sqs, url, wait=5))
    assert [b["detail"]["object"]["key"] for b in got] == ["invoices/1.pdf"]


@pytest.mark.moto_gap("every PutObject also sends an \"Object Tags Added\" event")
def test_upload_without_tags_sends_object_created_only(aws, unique):
    """AWS (S3 user guide, EventBridge mapping): PutObject, POST Object, CopyObject and
    CompleteMultipartUpload map to "Object Created"; PutObjectTagging maps to "Object Tags
    Added". A rule on every ``aws.s3`` event sees one event per plain upload."""
    s3, events, sqs = aws("s3"), aws("events"), aws("sqs")
    url = sqs.create_queue(QueueName=unique("uploads"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    allow_services(sqs, arn, "events.amazonaws.com", url=url)
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    rule = unique("all-s3")
    events.put_rule(Name=rule, EventPattern=json.dumps(
        {"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    s3.put_object_tagging(Bucket=bucket, Key="a.txt",
                          Tagging={"TagSet": [{"Key": "kind", "Value": "invoice"}]})
    got = bodies(receive_all(sqs, url, expect=2, wait=5))
    assert sorted(b["detail-type"] for b in got) == ["Object Created", "Object Tags Added"]
