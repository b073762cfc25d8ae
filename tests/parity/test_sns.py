"""SNS behaviours the SNS notebook and lab08/lab09 rely on."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from parity_helpers import HttpEndpoint, allow_services, bodies, receive_all, wait_for


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
    allow_services(sqs, qarn, "sns.amazonaws.com", url=url)
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


@pytest.mark.moto_gap("Publish fails for the whole topic once one subscribed queue is deleted")
def test_publish_survives_a_deleted_subscribed_queue(aws, unique):
    """AWS (Amazon SNS dead-letter queues): "message delivery fails when Amazon SNS can't access
    a subscribed endpoint due to a client-side or server-side error"; client-side errors
    "commonly occur when an owner deletes the endpoint". The failure is that subscription's:
    "A dead-letter queue is an Amazon SQS queue that an Amazon SNS subscription can target for
    messages that can't be delivered to subscribers successfully." Publish succeeds and the
    other subscribers get the message."""
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]

    def queue(name):
        url = sqs.create_queue(QueueName=unique(name))["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    gone_url, gone_arn = queue("gone")
    dlq_url, dlq_arn = queue("gone-dlq")
    kept_url, kept_arn = queue("kept")
    gone_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=gone_arn,
                             ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=gone_sub, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=kept_arn)
    for url, arn in ((gone_url, gone_arn), (dlq_url, dlq_arn), (kept_url, kept_arn)):
        allow_services(sqs, arn, "sns.amazonaws.com", url=url)
    sqs.delete_queue(QueueUrl=gone_url)
    assert sns.publish(TopicArn=topic, Message="OrderPlaced 9")["MessageId"]
    assert [b["Message"] for b in bodies(receive_all(sqs, kept_url, expect=1))] == [
        "OrderPlaced 9"]
    dead = receive_all(sqs, dlq_url, expect=1)
    assert len(dead) == 1 and "OrderPlaced 9" in dead[0]["Body"]


@pytest.mark.moto_gap("a raw-delivered Binary attribute makes every later ReceiveMessage with "
                      "MessageAttributeNames=All answer 500")
def test_raw_delivery_of_a_binary_attribute(aws, unique):
    """AWS: with raw message delivery, message attributes are sent to Amazon SQS as message
    attributes ("Message attributes are sent only when the message structure is String, not
    JSON" / "raw message delivery [...] the message attributes are delivered as SQS message
    attributes"); a Binary attribute arrives as a Binary SQS attribute with the same bytes."""
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="true")
    sns.publish(TopicArn=topic, Message="OrderPlaced", MessageAttributes={
        "signature": {"DataType": "Binary", "BinaryValue": b"\x00\x01sig"},
        "kind": {"DataType": "String", "StringValue": "OrderPlaced"}})
    got = receive_all(sqs, url, expect=1)
    assert [m["Body"] for m in got] == ["OrderPlaced"]
    attrs = got[0]["MessageAttributes"]
    assert attrs["signature"] == {"DataType": "Binary", "BinaryValue": b"\x00\x01sig"}
    assert attrs["kind"] == {"DataType": "String", "StringValue": "OrderPlaced"}


def _subscription_arn(sns, topic):
    return sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]


@pytest.mark.moto_gap("$or policies within AWS's limits are refused as too complex; cidr is "
                      "an unrecognized match type")
def test_filter_policy_or_operator_and_cidr(aws, unique):
    """AWS (AND/OR logic): "You can use the "$or" operator to explicitly define a filter policy
    to express the OR relationship between multiple attributes in the policy"; constraints:
    "The total combination of values in a filter policy must not exceed 150" - each OR branch
    is its own combination (5 x 5 + 5 x 5 = 50 here). IP address matching: "cidr"."""
    kinds = ["OrderPlaced", "OrderPaid", "OrderPacked", "OrderShipped", "OrderReturned"]
    policy = {"kind": kinds, "$or": [
        {"region": ["eu", "us", "ap", "sa", "af"]},
        {"source_ip": [{"cidr": "10.0.0.0/24"}, "192.0.2.1", "192.0.2.2", "192.0.2.3",
                       "192.0.2.4"]}]}
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="true", FilterPolicy=json.dumps(policy))

    def publish(body, **attrs):
        sns.publish(TopicArn=topic, Message=body, MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()})

    publish("by-region", kind="OrderPlaced", region="eu")
    publish("by-ip", kind="OrderPaid", source_ip="10.0.0.77")
    publish("neither", kind="OrderPaid", region="moon", source_ip="10.0.1.1")
    publish("wrong-kind", kind="Refund", region="eu")
    assert sorted(m["Body"] for m in receive_all(sqs, url, wait=3)) == ["by-ip", "by-region"]


@pytest.mark.moto_gap("dotted keys and arrays of arrays in a MessageBody policy never match")
def test_filter_policy_on_nested_body_fields(aws, unique):
    """AWS: "unlike attribute-based policies, payload-based policies support property
    nesting"; a key may name the nested property by its dotted path, and array values are
    matched member by member, also inside arrays of arrays."""
    sns, sqs, topic, url = _topic_queue(
        aws, unique, raw="true", FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"customer.tier": ["gold"], "tags": ["gift"]}))
    sns.publish(TopicArn=topic, Message=json.dumps(
        {"id": 1, "customer": {"tier": "gold"}, "tags": [["gift", "fragile"], ["express"]]}))
    sns.publish(TopicArn=topic, Message=json.dumps(
        {"id": 2, "customer": {"tier": "silver"}, "tags": [["gift"]]}))
    assert [b["id"] for b in bodies(receive_all(sqs, url, wait=3))] == [1]


INVALID_POLICIES = [
    {"event": []},
    {"event": [{"prefix": ""}]},
    {"total": [{"numeric": [">", 5, ">", 6]}]},
    {"ip": [{"cidr": "10.0.0.0/99"}]},
    {"event": [{"anything-but": None}]},
    {"total": [{"numeric": ["<", 2000000000]}]},
]


@pytest.mark.moto_gap("invalid filter policies are accepted, or answer 500")
def test_invalid_filter_policies_are_refused(aws, unique):
    """AWS SetSubscriptionAttributes: "InvalidParameter - Indicates that a request parameter
    does not comply with the associated constraints." Constraints: numeric values "can range
    from -10^9 to 10^9"; an array of values may not be empty; a numeric range has one lower
    and one upper bound; prefix needs a string; cidr a CIDR block."""
    sns, sqs, topic, url = _topic_queue(aws, unique)
    arn = _subscription_arn(sns, topic)
    for policy in INVALID_POLICIES:
        with pytest.raises(ClientError) as err:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                            AttributeValue=json.dumps(policy))
        assert err.value.response["Error"]["Code"] == "InvalidParameter", policy


@pytest.mark.moto_gap("an invalid FilterPolicyScope is stored (the next FilterPolicy answers "
                      "500), and FilterPolicy \"\" stays listed")
def test_filter_policy_scope_is_checked_and_an_empty_policy_removes_the_filter(aws, unique):
    """AWS: FilterPolicyScope "MessageAttributes" or "MessageBody" - anything else is an
    InvalidParameter; setting the FilterPolicy attribute to an empty string removes the
    filter: the subscription receives every message and lists no FilterPolicy."""
    sns, sqs, topic, url = _topic_queue(aws, unique, raw="true")
    arn = _subscription_arn(sns, topic)
    with pytest.raises(ClientError) as err:
        sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                        AttributeValue="Headers")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"event": ["PaymentFailed"]}))
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue="")
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attrs
    sns.publish(TopicArn=topic, Message="unfiltered")
    assert [m["Body"] for m in receive_all(sqs, url, expect=1)] == ["unfiltered"]


@pytest.mark.moto_gap("an empty message and an unknown protocol are accepted")
def test_empty_message_and_unknown_protocol_are_refused(aws, unique):
    """AWS Subscribe, Protocol: "Supported protocols include: http, https, email, email-json,
    sms, sqs, application, lambda, firehose"; Publish: an empty Message is an
    InvalidParameter ("Empty message")."""
    sns = aws("sns")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, Message="")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as err:
        sns.subscribe(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="loft-1")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


@pytest.mark.moto_gap("a topic name where the ARN belongs answers an HTML 500 page "
                      "(Subscribe, GetTopicAttributes, SetTopicAttributes, DeleteTopic, ...)")
def test_malformed_topic_arn_is_an_invalid_parameter(aws, unique):
    """AWS Subscribe / GetTopicAttributes errors: "InvalidParameter - Indicates that a request
    parameter does not comply with the associated constraints." and "NotFound - Indicates that
    the requested resource does not exist." A name where an ARN belongs is the first (as
    Publish answers); a well-formed ARN of a topic that does not exist, the second."""
    sns = aws("sns")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    queue = "arn:aws:sqs:us-east-1:123456789012:inbox"
    for call in (lambda arn: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue),
                 lambda arn: sns.get_topic_attributes(TopicArn=arn)):
        with pytest.raises(ClientError) as err:
            call("orders")
        assert err.value.response["Error"]["Code"] == "InvalidParameter"
        with pytest.raises(ClientError) as err:
            call(topic + "-gone")
        assert err.value.response["Error"]["Code"] == "NotFound"
