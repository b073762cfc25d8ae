"""SNS behaviours the SNS notebook and lab08/lab09 rely on."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from parity_helpers import HttpEndpoint, bodies, receive_all, wait_for


@pytest.fixture
def endpoint():
    ep = HttpEndpoint()
    yield ep
    ep.close()


def _confirmation(sns, endpoint, unique):
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    got = wait_for(lambda: endpoint.of_type("SubscriptionConfirmation"), timeout=5)
    assert got, f"no SubscriptionConfirmation POST reached {endpoint.url}: {endpoint.requests}"
    return topic, json.loads(got[0]["body"])


@pytest.mark.moto_gap("no SubscriptionConfirmation is sent; HTTP subscriptions start confirmed")
def test_http_subscription_is_confirmed_before_delivery(aws, endpoint, unique):
    """AWS: "When you subscribe an HTTP endpoint, Amazon SNS sends it a subscription
    confirmation request" (header ``x-amz-sns-message-type: SubscriptionConfirmation``, body
    with ``SubscribeURL`` and ``Token``); "Amazon SNS will not send notifications to the
    endpoint until you confirm the subscription"; meanwhile the "Subscription ID displays
    PendingConfirmation"."""
    sns = aws("sns")
    topic, confirmation = _confirmation(sns, endpoint, unique)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    assert confirmation["SubscribeURL"] and confirmation["Token"]
    pending = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in pending] == ["PendingConfirmation"]
    sns.publish(TopicArn=topic, Message="before confirmation")
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    confirmed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in confirmed] == [arn]
    sns.publish(TopicArn=topic, Message="after confirmation", Subject="OrderPlaced")
    notes = wait_for(lambda: endpoint.of_type("Notification"), timeout=10)
    assert [json.loads(n["body"])["Message"] for n in notes] == ["after confirmation"]
    assert notes[0]["headers"]["x-amz-sns-topic-arn"] == topic


@pytest.mark.moto_gap("no SubscriptionConfirmation is sent, so there is no SubscribeURL")
def test_visiting_subscribe_url_confirms(aws, endpoint, unique):
    """AWS: "To confirm the subscription, visit the SubscribeURL included in this message" -
    an unsigned GET of that URL confirms the subscription."""
    sns = aws("sns")
    topic, confirmation = _confirmation(sns, endpoint, unique)
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as resp:
        assert resp.status == 200
    sns.publish(TopicArn=topic, Message="OrderShipped")
    notes = wait_for(lambda: endpoint.of_type("Notification"), timeout=10)
    assert [json.loads(n["body"])["Message"] for n in notes] == ["OrderShipped"]


@pytest.mark.moto_gap("no SubscriptionConfirmation; UnsubscribeURL points at AWS itself")
def test_visiting_unsubscribe_url_unsubscribes(aws, endpoint, unique):
    """AWS HTTP/HTTPS notification JSON, UnsubscribeURL: "A URL that you can use to unsubscribe
    the endpoint from this topic. If you visit this URL, Amazon SNS unsubscribes the endpoint
    and stops sending notifications to this endpoint.\""""
    sns = aws("sns")
    topic, confirmation = _confirmation(sns, endpoint, unique)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    sns.publish(TopicArn=topic, Message="first")
    notes = wait_for(lambda: endpoint.of_type("Notification"), timeout=10)
    with urllib.request.urlopen(json.loads(notes[0]["body"])["UnsubscribeURL"],
                                timeout=10) as resp:
        assert resp.status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


@pytest.mark.moto_gap("no SubscriptionConfirmation; deliveries lack x-amz-sns-message-type")
def test_raw_message_delivery_to_http(aws, endpoint, unique):
    """AWS: "With raw message delivery enabled [...] the message is delivered as is" - for
    HTTP/S endpoints the POST body is the published message, not the JSON envelope."""
    sns = aws("sns")
    topic, confirmation = _confirmation(sns, endpoint, unique)
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    sns.publish(TopicArn=topic, Message='{"orderId": "o-1"}')
    notes = wait_for(lambda: endpoint.of_type("Notification"), timeout=10)
    assert [n["body"] for n in notes] == ['{"orderId": "o-1"}']


def test_non_loopback_http_endpoint_is_refused(stack, unique):
    """Not an AWS behaviour but the course's promise: a local target never sends a request off
    the machine, so the emulator refuses HTTP/S subscribers that are not loopback (AWS would
    accept them; this runs only on the embedded stack)."""
    import edalab

    sns = edalab.client("sns", account_id=str(100000000000 + uuid.uuid4().int % 899999999999))
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://203.0.113.7/hook")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


def _topic_queue(aws, unique, raw="false", fifo=False, **sub_attrs):
    sns, sqs = aws("sns"), aws("sqs")
    suffix = ".fifo" if fifo else ""
    q_attrs = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=unique("inbox") + suffix, Attributes=q_attrs)["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    t_attrs = {"FifoTopic": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    topic = sns.create_topic(Name=unique("orders") + suffix, Attributes=t_attrs)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                  Attributes={"RawMessageDelivery": raw, **sub_attrs})
    return sns, sqs, topic, url


def test_sqs_subscription_envelope_and_raw(aws, unique):
    """AWS: without raw delivery an SQS subscriber gets the JSON envelope ("Type":
    "Notification", "Message": ...); "With raw message delivery enabled [...] the message is
    delivered as is"."""
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="false")
    sns.publish(TopicArn=topic, Message="OrderPlaced")
    got = bodies(receive_all(sqs, url, expect=1))
    assert got[0]["Type"] == "Notification" and got[0]["Message"] == "OrderPlaced"
    sns2, sqs2, topic2, url2 = _topic_queue(aws, unique, raw="true")
    sns2.publish(TopicArn=topic2, Message="OrderPlaced")
    assert [m["Body"] for m in receive_all(sqs2, url2, expect=1)] == ["OrderPlaced"]


def test_filter_policy_on_message_attributes(aws, unique):
    """AWS: "By default, a subscription receives every message published to the topic. [...]
    a filter policy [...] the subscriber receives only the messages that match" (scope
    MessageAttributes, the default)."""
    sns, sqs, topic, url = _topic_queue(
        aws, unique, raw="true", FilterPolicy=json.dumps({"event": ["PaymentFailed"]}))
    for event in ("PaymentTaken", "PaymentFailed"):
        sns.publish(TopicArn=topic, Message=event, MessageAttributes={
            "event": {"DataType": "String", "StringValue": event}})
    assert [m["Body"] for m in receive_all(sqs, url, wait=3)] == ["PaymentFailed"]


def test_filter_policy_operators_on_attributes(aws, unique):
    """AWS subscription filter policies: "prefix" matching, "anything-but" matching and
    "exists" matching on message attributes; all keys of the policy must match (AND)."""
    policy = {"service": [{"prefix": "pay"}], "event": [{"anything-but": ["PaymentTaken"]}],
              "urgent": [{"exists": True}]}
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="true", FilterPolicy=json.dumps(policy))

    def publish(body, **attrs):
        sns.publish(TopicArn=topic, Message=body, MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()})

    publish("m1", service="payments", event="PaymentFailed", urgent="yes")
    publish("m2", service="payments", event="PaymentTaken", urgent="yes")
    publish("m3", service="payments", event="PaymentFailed")
    publish("m4", service="shipping", event="PaymentFailed", urgent="yes")
    assert [m["Body"] for m in receive_all(sqs, url, wait=3)] == ["m1"]


def test_filter_policy_on_message_body(aws, unique):
    """AWS: "FilterPolicyScope [...] MessageBody – The filter policy is applied to the message
    body.\""""
    sns, sqs, topic, url = _topic_queue(
        aws, unique, raw="true", FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"total": [{"numeric": [">=", 100]}]}))
    for total in (5, 150):
        sns.publish(TopicArn=topic, Message=json.dumps({"total": total}))
    assert bodies(receive_all(sqs, url, wait=3)) == [{"total": 150}]


@pytest.mark.moto_gap("a content-based FIFO topic passes no deduplication id to its FIFO queue")
def test_fifo_topic_to_fifo_queue_keeps_order(aws, unique):
    """AWS: "SNS FIFO topics [...] strict message ordering" to "Amazon SQS FIFO queues"
    subscribed to them; with content-based deduplication on the topic, "Amazon SNS uses a
    SHA-256 hash to generate the message deduplication ID using the body of the message" and
    passes it on to the queue."""
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="true", fifo=True)
    for n in range(5):
        sns.publish(TopicArn=topic, Message=f"step-{n}", MessageGroupId="order-1")
    assert [m["Body"] for m in receive_all(sqs, url, expect=5, wait=5)] == [
        f"step-{n}" for n in range(5)]
