"""Permissions: a delivery, a trigger or a handler's call works only when AWS would allow it.

One test per row of the "Permissions" table in ``docs/aws-parity.md``. Each checks the
refusal AWS documents, then grants the permission the documented way and checks the same
thing works.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from parity_helpers import receive_all, wait_for

SQS_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


def _queue(aws, unique, name="inbox"):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique(name))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return sqs, url, arn


def _allow_service(sqs, url, arn, service, source_arn):
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}]})})


def _metric_sum(aws, namespace, metric, dimensions, timeout=10.0):
    cw = aws("cloudwatch")
    now = datetime.now(timezone.utc)

    def fetch():
        points = cw.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Statistics=["Sum"], Period=60,
            StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5),
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()])["Datapoints"]
        return sum(p["Sum"] for p in points)

    return wait_for(fetch, timeout=timeout)


def _role(aws, unique, *managed):
    from edalab.lambda_zip import LAMBDA_TRUST_POLICY

    iam = aws("iam")
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        LAMBDA_TRUST_POLICY))["Role"]["Arn"]
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return iam, name, arn


def _function(aws, unique, role_arn, source, env=None):
    from edalab.lambda_zip import zip_handler

    lam = aws("lambda")
    fn = lam.create_function(
        FunctionName=unique("fn"), Runtime="python3.12", Role=role_arn,
        Handler="handler.lambda_handler", Code={"ZipFile": zip_handler(source)}, Timeout=30,
        Environment={"Variables": env or {}})
    return lam, fn


@pytest.mark.moto_gap("SNS delivers to a queue whose policy does not allow sns.amazonaws.com")
def test_sns_to_sqs_needs_the_queue_policy(aws, unique):
    """AWS (SNS developer guide, "Subscribing an Amazon SQS queue to an Amazon SNS topic"): "For
    an Amazon SNS topic to be able to send messages to a queue, you must set a policy on the
    queue that allows the Amazon SNS topic to perform the sqs:SendMessage action." Without it
    the message is not delivered and the topic's ``NumberOfNotificationsFailed`` counts it."""
    sns = aws("sns")
    sqs, url, arn = _queue(aws, unique)
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="without policy")
    assert receive_all(sqs, url, wait=2) == []
    failed = _metric_sum(aws, "AWS/SNS", "NumberOfNotificationsFailed",
                         {"TopicName": topic.rsplit(":", 1)[1]})
    assert failed >= 1
    _allow_service(sqs, url, arn, "sns.amazonaws.com", topic)
    sns.publish(TopicArn=topic, Message="with policy")
    got = receive_all(sqs, url, expect=1)
    assert [json.loads(m["Body"])["Message"] for m in got] == ["with policy"]


@pytest.mark.moto_gap("PutBucketNotificationConfiguration accepts a queue S3 may not send to")
def test_s3_notification_to_sqs_needs_the_queue_policy(aws, unique):
    """AWS (S3 user guide, "Granting permissions to publish event notification messages to a
    destination"): "To grant Amazon S3 permissions to publish messages to the SNS topic or SQS
    queue, attach an AWS Identity and Access Management (IAM) policy to the destination SNS
    topic or SQS queue." Without it PutBucketNotificationConfiguration fails with "Unable to
    validate the following destination configurations"."""
    s3 = aws("s3")
    sqs, url, arn = _queue(aws, unique)
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert "Unable to validate the following destination configurations" in str(err.value)
    _allow_service(sqs, url, arn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    got = [json.loads(m["Body"]) for m in receive_all(sqs, url, wait=5, expect=2)]
    assert [r["s3"]["object"]["key"] for b in got for r in b.get("Records", [])] == ["a.txt"]


@pytest.mark.moto_gap("PutBucketNotificationConfiguration accepts a function S3 may not invoke")
def test_s3_notification_to_lambda_needs_the_function_permission(aws, unique):
    """AWS (S3 user guide): "Amazon S3 publishes event messages to AWS Lambda by invoking a
    Lambda function [...] You can also grant Amazon S3 permissions from AWS Lambda to invoke
    your Lambda function" (``lambda add-permission --principal s3.amazonaws.com``). Without
    that permission the configuration is refused: "Unable to validate the following
    destination configurations"."""
    s3 = aws("s3")
    _, _, role = _role(aws, unique)
    lam, fn = _function(aws, unique, role, "def lambda_handler(event, context):\n    return 1\n")
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    config = {"LambdaFunctionConfigurations": [{
        "LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    lam.add_permission(FunctionName=fn["FunctionName"], StatementId="s3", Principal="s3.amazonaws.com",
                       Action="lambda:InvokeFunction", SourceArn=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)


HANDLER_TO_QUEUE = """
import json, os, boto3

def lambda_handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE"], MessageBody=json.dumps(event))
    return {"sent": True}
"""


@pytest.mark.slow
@pytest.mark.moto_gap("EventBridge invokes a function whose policy does not allow events.amazonaws.com")
def test_eventbridge_to_lambda_needs_the_function_permission(aws, unique):
    """AWS (EventBridge user guide, "Using resource-based policies for Amazon EventBridge"):
    "To invoke your AWS Lambda function using an EventBridge rule, add the following
    permission to the policy of your Lambda function" (``lambda:InvokeFunction`` for
    ``events.amazonaws.com`` with ``aws:SourceArn`` the rule). Without it the function is not
    invoked and the rule's ``FailedInvocations`` metric counts the attempt."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique, "handler-out")
    _, _, role = _role(aws, unique)
    lam, fn = _function(aws, unique, role, HANDLER_TO_QUEUE, env={"QUEUE": url})
    # The handler's role may send to the queue through the queue's policy (same account).
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": role},
                                                 "Action": "sqs:SendMessage", "Resource": arn}]})})
    rule = unique("orders")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["shop.orders"]}))[
        "RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn["FunctionArn"]}])
    entry = {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"n": 1})}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    assert _metric_sum(aws, "AWS/Events", "FailedInvocations", {"RuleName": rule}) >= 1
    assert receive_all(sqs, url, wait=2) == []
    lam.add_permission(FunctionName=fn["FunctionName"], StatementId="events",
                       Principal="events.amazonaws.com", Action="lambda:InvokeFunction",
                       SourceArn=rule_arn)
    events.put_events(Entries=[{**entry, "Detail": json.dumps({"n": 2})}])
    got = [json.loads(m["Body"]) for m in receive_all(sqs, url, wait=30, expect=1)]
    assert [b["detail"]["n"] for b in got] == [2]


@pytest.mark.moto_gap("CreateEventSourceMapping accepts a role that cannot read the queue")
def test_sqs_mapping_needs_an_execution_role_that_reads_the_queue(aws, unique):
    """AWS (Lambda developer guide, "Creating and configuring an Amazon SQS event source
    mapping"): "The AWSLambdaSQSQueueExecutionRole AWS managed policy includes the permissions
    that Lambda needs to read from your Amazon SQS queue" - ``sqs:ReceiveMessage``,
    ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes``. CreateEventSourceMapping with a role
    lacking them fails with InvalidParameterValueException ("The provided execution role does
    not have permissions to call ReceiveMessage on SQS")."""
    sqs, url, arn = _queue(aws, unique)
    iam, role_name, role = _role(aws, unique,
                                 "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    lam, fn = _function(aws, unique, role, "def lambda_handler(event, context):\n    return 1\n")
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn["FunctionName"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "ReceiveMessage" in err.value.response["Error"]["Message"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=SQS_EXECUTION)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn["FunctionName"])
    assert mapping["EventSourceArn"] == arn


HANDLER_SENDS = """
import os, boto3
from botocore.exceptions import ClientError

def lambda_handler(event, context):
    try:
        boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE"], MessageBody="hi")
        return {"sent": True}
    except ClientError as exc:
        return {"sent": False, "code": exc.response["Error"]["Code"],
                "message": exc.response["Error"]["Message"]}
"""


@pytest.mark.moto_gap("a handler's calls are never checked against its execution role")
def test_handler_calls_need_the_execution_role_permission(aws, unique):
    """AWS (Lambda developer guide, "Defining Lambda function permissions with an execution
    role"): "A Lambda function's execution role is an AWS Identity and Access Management (IAM)
    role that grants the function permission to access AWS services and resources." A call the
    role does not allow fails inside the handler with AccessDenied ("User:
    arn:aws:sts::...:assumed-role/<role>/<function> is not authorized to perform:
    sqs:SendMessage ... because no identity-based policy allows the sqs:SendMessage action");
    an inline policy that allows it makes the same call succeed."""
    sqs, url, arn = _queue(aws, unique)
    iam, role_name, role = _role(aws, unique,
                                 "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    lam, fn = _function(aws, unique, role, HANDLER_SENDS, env={"QUEUE": url})
    out = json.loads(lam.invoke(FunctionName=fn["FunctionName"])["Payload"].read())
    assert out["sent"] is False and out["code"] == "AccessDenied", out
    assert f"assumed-role/{role_name}/{fn['FunctionName']}" in out["message"]
    assert "sqs:SendMessage" in out["message"]
    iam.put_role_policy(RoleName=role_name, PolicyName="send", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                 "Resource": arn}]}))
    out = json.loads(lam.invoke(FunctionName=fn["FunctionName"])["Payload"].read())
    assert out == {"sent": True}
    assert [m["Body"] for m in receive_all(sqs, url, expect=1)] == ["hi"]
