"""Lambda behaviours the SQS trigger notebooks and labs (lab05) rely on."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from parity_helpers import bodies, receive_all, wait_for

FORWARDER = """
import os, boto3

def lambda_handler(event, context):
    sqs = boto3.client("sqs", endpoint_url=os.environ["PARITY_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    account = os.environ["PARITY_ACCOUNT"]
    sqs.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", account))
    for record in event["Records"]:
        sqs.send_message(QueueUrl=os.environ["PARITY_QUEUE"], MessageBody=record["body"])
"""

SQS_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Resource": "*",
    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
               "sqs:SendMessage"]}]})


def _queue(sqs, name):
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def _function(aws, unique, backend, forward_to: str) -> str:
    from edalab.lambda_zip import ensure_lambda_role, zip_handler

    iam = aws("iam")
    role = ensure_lambda_role(iam, policy_arns=())
    iam.put_role_policy(RoleName=role.split("/")[-1], PolicyName="parity-sqs",
                        PolicyDocument=SQS_POLICY)
    return aws("lambda").create_function(
        FunctionName=unique("fulfil"), Runtime="python3.11", Role=role,
        Handler="handler.lambda_handler", Code={"ZipFile": zip_handler(FORWARDER)}, Timeout=10,
        Environment={"Variables": {"PARITY_ENDPOINT": backend.endpoint,
                                   "PARITY_ACCOUNT": backend.account,
                                   "PARITY_QUEUE": forward_to}})["FunctionName"]


def _depth(sqs, url) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.slow
@pytest.mark.moto_gap("FilterCriteria is ignored: every message invokes the function")
def test_sqs_mapping_filter_criteria_discards_what_no_filter_matches(aws, unique, backend):
    """AWS (Lambda developer guide, Control which events Lambda sends to your function): "Your
    filters are logically ORed together. If a record from your event source satisfies one or
    more of your filters, Lambda includes the record in the next event it sends to your
    function. If none of your filters are satisfied, Lambda discards the record." and
    "Amazon SQS event source mappings only support filtering on the body key.\""""
    sqs = aws("sqs")
    url, arn = _queue(sqs, unique("orders"))
    out, _ = _queue(sqs, unique("fulfilled"))
    fn = _function(aws, unique, backend, out)
    aws("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName=fn, BatchSize=10, FilterCriteria={"Filters": [
            {"Pattern": json.dumps({"body": {"kind": ["OrderPlaced"]}})},
            {"Pattern": json.dumps({"body": {"total": [{"numeric": [">", 100]}]}})}]})
    for body in ({"kind": "OrderPlaced", "id": 1}, {"kind": "OrderCancelled", "id": 2},
                 {"kind": "OrderShipped", "id": 3, "total": 250}, "not json"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body) if isinstance(body, dict)
                         else body)
    got = bodies(receive_all(sqs, out, expect=2, wait=30))
    assert sorted(b["id"] for b in got) == [1, 3]
    assert wait_for(lambda: _depth(sqs, url) == 0, timeout=15), "discarded messages stay queued"
    assert receive_all(sqs, out, wait=2) == []


@pytest.mark.moto_gap("an invalid filter pattern is accepted")
def test_sqs_mapping_refuses_an_invalid_filter_pattern(aws, unique, backend):
    """AWS CreateEventSourceMapping, FilterCriteria: "An object that defines the filter criteria
    that determine whether Lambda should process an event"; a pattern that is not a valid
    filter pattern is refused with InvalidParameterValueException."""
    sqs = aws("sqs")
    url, arn = _queue(sqs, unique("orders"))
    fn = _function(aws, unique, backend, url)
    lam = aws("lambda")
    for pattern in ('{"body": {"kind": "OrderPlaced"}}',      # a leaf that is not an array
                    '{"body": {"kind": [{"bogus": 1}]}}',      # an unknown match type
                    "{not json"):
        with pytest.raises(ClientError) as err:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn,
                                            FilterCriteria={"Filters": [{"Pattern": pattern}]})
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException", pattern
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []


FAILING = """
def lambda_handler(event, context):
    raise RuntimeError("payment gateway down for " + event["orderId"])
"""


@pytest.mark.slow
@pytest.mark.moto_gap("DeadLetterConfig is dropped (not returned, never used)")
def test_dead_letter_config_receives_the_failed_event(aws, unique, backend):
    """AWS CreateFunction, DeadLetterConfig: "A dead-letter queue configuration that specifies
    the queue or topic where Lambda sends asynchronous events when they fail processing";
    GetFunctionConfiguration answers it. The event arrives as it was sent."""
    from edalab.lambda_zip import ensure_lambda_role, zip_handler

    sqs, lam, iam = aws("sqs"), aws("lambda"), aws("iam")
    dlq, dlq_arn = _queue(sqs, unique("payments-dlq"))
    role = ensure_lambda_role(iam, policy_arns=())
    iam.put_role_policy(RoleName=role.split("/")[-1], PolicyName="parity-sqs",
                        PolicyDocument=SQS_POLICY)
    name = lam.create_function(
        FunctionName=unique("take-payment"), Runtime="python3.11", Role=role,
        Handler="handler.lambda_handler", Code={"ZipFile": zip_handler(FAILING)}, Timeout=10,
        DeadLetterConfig={"TargetArn": dlq_arn})["FunctionName"]
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": dlq_arn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.invoke(FunctionName=name, InvocationType="Event",
               Payload=json.dumps({"orderId": "o-9"}))
    dead = receive_all(sqs, dlq, expect=1, wait=30)
    assert [json.loads(m["Body"]) for m in dead] == [{"orderId": "o-9"}]
    assert {"RequestID", "ErrorCode", "ErrorMessage"} <= set(dead[0]["MessageAttributes"])


@pytest.mark.moto_gap("a new event source mapping is Enabled at once")
def test_new_sqs_mapping_is_creating_then_enabled(aws, unique, backend):
    """AWS EventSourceMappingConfiguration, State: "The state of the event source mapping. It
    can be one of the following: Creating, Enabling, Enabled, Disabling, Disabled, Updating,
    or Deleting." CreateEventSourceMapping answers while the mapping is still Creating."""
    sqs, lam = aws("sqs"), aws("lambda")
    url, arn = _queue(sqs, unique("orders"))
    fn = _function(aws, unique, backend, url)
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn)
    assert created["State"] == "Creating"
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=created["UUID"])["State"]
                    == "Enabled", timeout=60)
