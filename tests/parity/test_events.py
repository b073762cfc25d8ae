"""EventBridge behaviours the EventBridge notebook and lab10 rely on."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from parity_helpers import allow_services, bodies, receive_all, wait_for

def _queue(aws, unique, name="events"):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique(name))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    allow_services(sqs, arn, "events.amazonaws.com", "sns.amazonaws.com", url=url)
    return sqs, url, arn


def _order_placed(events, order_id="o-1", total=42, bus="default"):
    resp = events.put_events(Entries=[{
        "Source": "shop.orders", "DetailType": "OrderPlaced", "EventBusName": bus,
        "Detail": json.dumps({"orderId": order_id, "total": total})}])
    assert resp["FailedEntryCount"] == 0, resp
    return resp


ORDERS = json.dumps({"source": ["shop.orders"], "detail-type": ["OrderPlaced"]})


@pytest.mark.moto_gap("a DISABLED rule still delivers")
def test_disabled_rule_delivers_nothing_until_enabled(aws, unique):
    """AWS DisableRule: "Disables the specified rule. A disabled rule won't match any events,
    and won't self-trigger if it has a schedule expression." EnableRule makes it match again."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("orders")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    events.disable_rule(Name=rule)
    _order_placed(events, "while-disabled")
    events.enable_rule(Name=rule)
    _order_placed(events, "after-enable")
    got = [b["detail"]["orderId"] for b in bodies(receive_all(sqs, url, wait=3))]
    assert got == ["after-enable"]


@pytest.mark.moto_gap("the event delivered to an SQS target lacks the account field")
def test_target_receives_the_whole_event(aws, unique, backend):
    """AWS event structure: every event has "version", "id", "detail-type", "source",
    "account", "time", "region", "resources" and "detail"; without Input, InputPath or an
    InputTransformer the target receives that event as it is."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("whole")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    _order_placed(events, "o-w")
    got = bodies(receive_all(sqs, url, expect=1))
    assert set(got[0]) == {"version", "id", "detail-type", "source", "account", "time",
                           "region", "resources", "detail"}
    assert got[0]["account"] == backend.account
    assert got[0]["detail"] == {"orderId": "o-w", "total": 42}


@pytest.mark.moto_gap("a schedule-only rule receives every event put on the bus")
def test_schedule_rule_receives_no_bus_events(aws, unique):
    """AWS: rules either "match on event data" (an event pattern) or "run on a defined
    schedule"; a scheduled rule is triggered by its schedule, so bus events do not reach it."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("nightly")
    events.put_rule(Name=rule, ScheduleExpression="rate(1 day)")
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    _order_placed(events)
    assert receive_all(sqs, url, wait=2) == []


@pytest.mark.slow
@pytest.mark.moto_gap("schedule rules never fire")
def test_rate_and_cron_rules_fire(aws, unique):
    """AWS: "EventBridge runs these rules at regular intervals" (rate expressions) and "at
    specific times and dates" (cron expressions); "the minimum precision for a schedule is one
    minute". The target receives an event with detail-type "Scheduled Event" from aws.events
    naming the rule in ``resources``."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rate_arn = events.put_rule(Name=unique("rate"), ScheduleExpression="rate(1 minute)")["RuleArn"]
    cron_arn = events.put_rule(Name=unique("cron"), ScheduleExpression="cron(* * * * ? *)")[
        "RuleArn"]
    for arn_rule in (rate_arn, cron_arn):
        events.put_targets(Rule=arn_rule.rsplit("/", 1)[1], Targets=[{"Id": "q", "Arn": arn}])
    seen: list[dict] = []

    def both_fired():
        seen.extend(bodies(receive_all(sqs, url, wait=1)))
        return {r for b in seen for r in b.get("resources", [])} >= {rate_arn, cron_arn}

    assert wait_for(both_fired, timeout=85, interval=0), seen
    assert {b["detail-type"] for b in seen} == {"Scheduled Event"}
    assert {b["source"] for b in seen} == {"aws.events"}


def _topic_to_queue(aws, unique):
    sns = aws("sns")
    sqs, url, qarn = _queue(aws, unique, "from-sns")
    topic = sns.create_topic(Name=unique("orders"))["TopicArn"]
    allow_services(sns, topic, "events.amazonaws.com")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn,
                  Attributes={"RawMessageDelivery": "true"})
    return topic, sqs, url


@pytest.mark.moto_gap("SNS targets raise NotImplementedError (500 on put_events)")
def test_sns_target_receives_the_event(aws, unique):
    """AWS: "An SNS topic" is among EventBridge targets; the topic receives the matched event
    as the message."""
    events = aws("events")
    topic, sqs, url = _topic_to_queue(aws, unique)
    rule = unique("to-sns")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": topic}])
    _order_placed(events, "via-sns")
    got = bodies(receive_all(sqs, url, expect=1))
    assert [b["detail"]["orderId"] for b in got] == ["via-sns"]


@pytest.mark.moto_gap("one unsupported target makes put_events fail for every target")
def test_one_failing_target_does_not_stop_the_others(aws, unique):
    """AWS: "A single rule can send an event to multiple targets, which then run in parallel";
    a target that cannot be reached is retried and dropped on its own, PutEvents still
    succeeds and the other targets get the event."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    missing = f"arn:aws:sns:us-east-1:{arn.split(':')[4]}:{unique('no-such-topic')}"
    rule = unique("fan-out")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "gone", "Arn": missing},
                                           {"Id": "q", "Arn": arn}])
    _order_placed(events, "still-delivered")
    got = bodies(receive_all(sqs, url, expect=1))
    assert [b["detail"]["orderId"] for b in got] == ["still-delivered"]


@pytest.mark.moto_gap("Input on a target is ignored (the full event is delivered)")
def test_target_input_replaces_the_event(aws, unique):
    """AWS Target, Input: "Valid JSON text passed to the target. In this case, nothing from
    the event itself is passed to the target.\""""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("constant")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn,
                                            "Input": json.dumps({"command": "ShipOrder"})}])
    _order_placed(events)
    assert bodies(receive_all(sqs, url, expect=1)) == [{"command": "ShipOrder"}]


@pytest.mark.moto_gap("InputPath on a target is ignored (the full event is delivered)")
def test_target_input_path_selects_part_of_the_event(aws, unique):
    """AWS Target, InputPath: "The value of the JSONPath that is used for extracting part of
    the matched event when passing it to the target.\""""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("detail-only")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn, "InputPath": "$.detail"}])
    _order_placed(events, "o-9", 99)
    assert bodies(receive_all(sqs, url, expect=1)) == [{"orderId": "o-9", "total": 99}]


def test_input_transformer_shapes_the_event(aws, unique):
    """AWS InputTransformer: "Settings to enable you to provide custom input to a target based
    on certain event data. You can extract one or more key-value pairs from the event and then
    use that data to send customized input to the target.\""""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("shaped")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"order": "$.detail.orderId"},
        "InputTemplate": '{"ship": "<order>"}'}}])
    _order_placed(events, "o-5")
    assert bodies(receive_all(sqs, url, expect=1)) == [{"ship": "o-5"}]


@pytest.mark.moto_gap("a string placeholder outside quotes breaks the JSON: nothing delivered")
def test_input_transformer_quotes_strings_outside_quotes(aws, unique):
    """AWS InputTransformer: "The InputTemplate can also be valid JSON with varibles in quotes
    or out" - a string value put outside quotes arrives as a JSON string, numbers and objects
    arrive as they are, and inside quotes the value becomes part of the string ("Transforming
    inputs", EventBridge API Reference)."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("shaped-raw")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"order": "$.detail.orderId", "total": "$.detail.total",
                          "detail": "$.detail"},
        "InputTemplate": '{"order": <order>, "total": <total>, "detail": <detail>, '
                         '"note": "order <order> costs <total>"}'}}])
    _order_placed(events, "o-6", total=17)
    assert bodies(receive_all(sqs, url, expect=1)) == [{
        "order": "o-6", "total": 17, "detail": {"orderId": "o-6", "total": 17},
        "note": "order o-6 costs 17"}]


def test_pattern_operators_route_events(aws, unique):
    """AWS content filtering: "prefix", "numeric" and "anything-but" matching in event
    patterns select which events reach a rule's targets."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("big-orders")
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": [{"prefix": "shop."}],
        "detail": {"total": [{"numeric": [">=", 100]}],
                   "orderId": [{"anything-but": "test"}]}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    _order_placed(events, "small", 5)
    _order_placed(events, "test", 500)
    _order_placed(events, "big", 500)
    got = [b["detail"]["orderId"] for b in bodies(receive_all(sqs, url, wait=3))]
    assert got == ["big"]


@pytest.mark.moto_gap("TestEventPattern is a stub (no Result in the answer)")
def test_test_event_pattern_uses_the_rule_matcher(aws):
    """AWS TestEventPattern: "Tests whether the specified event pattern matches the provided
    event." Result: "Indicates whether the event matches the event pattern.\""""
    events = aws("events")
    event = {"id": "1", "account": "123456789012", "source": "shop.orders",
             "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
             "detail-type": "OrderPlaced", "detail": {"total": 120}}
    big = json.dumps({"detail": {"total": [{"numeric": [">", 100]}]}})
    small = json.dumps({"detail": {"total": [{"numeric": ["<", 100]}]}})
    assert events.test_event_pattern(EventPattern=big, Event=json.dumps(event))["Result"]
    assert not events.test_event_pattern(EventPattern=small, Event=json.dumps(event))["Result"]


@pytest.mark.moto_gap("an unknown match type in a pattern is accepted")
def test_wrong_pattern_syntax_is_refused(aws, unique):
    """AWS PutRule errors: "InvalidEventPatternException - The event pattern is not valid." A
    misspelt comparison operator is such a pattern."""
    events = aws("events")
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=unique("typo"),
                        EventPattern=json.dumps({"source": [{"prefixx": "shop."}]}))
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as err:
        events.test_event_pattern(EventPattern=json.dumps({"detail": {"total": [
            {"numeric": ["~", 5]}]}}), Event=json.dumps({"source": "shop.orders"}))
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_custom_bus_rules_see_only_their_bus(aws, unique):
    """AWS: "You associate a rule with a specific event bus, so the rule only applies to events
    received by that event bus.\""""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    bus = unique("shop")
    events.create_event_bus(Name=bus)
    rule = unique("on-shop-bus")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=ORDERS)
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    _order_placed(events, "on-default")
    _order_placed(events, "on-custom", bus=bus)
    got = [b["detail"]["orderId"] for b in bodies(receive_all(sqs, url, wait=3))]
    assert got == ["on-custom"]


def test_pattern_that_is_not_json_is_refused(aws, unique):
    """AWS PutRule errors: "InvalidEventPatternException - The event pattern is not valid.\""""
    events = aws("events")
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=unique("broken"), EventPattern="{source: shop}")
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_archive_and_replay(aws, unique):
    """AWS: "you can create an archive of events so that you can easily replay them at a later
    time"; replayed events carry a ``replay-name`` field and reach the bus's rules again."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    bus_arn = events.describe_event_bus()["Arn"]
    rule = unique("audit")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    archive = unique("orders-archive")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn)
    start = time.time() - 5
    _order_placed(events, "o-r")
    assert len(receive_all(sqs, url, expect=1)) == 1
    events.start_replay(ReplayName=unique("replay"),
                        EventSourceArn=events.describe_archive(ArchiveName=archive)["ArchiveArn"],
                        EventStartTime=start, EventEndTime=time.time() + 5,
                        Destination={"Arn": bus_arn})
    replayed = bodies(receive_all(sqs, url, expect=1, wait=10))
    assert [b["detail"]["orderId"] for b in replayed] == ["o-r"]
    assert "replay-name" in replayed[0]


def test_s3_object_created_reaches_eventbridge(aws, unique):
    """AWS: "Amazon S3 can send events to Amazon EventBridge whenever certain events happen in
    your bucket"; an "Object Created" event has source "aws.s3" and the bucket and key in its
    detail."""
    events = aws("events")
    s3 = aws("s3")
    sqs, url, arn = _queue(aws, unique)
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    rule = unique("uploads")
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    s3.put_object(Bucket=bucket, Key="invoices/1.pdf", Body=b"%PDF")
    got = bodies(receive_all(sqs, url, expect=1, wait=5))
    assert [b["detail"]["object"]["key"] for b in got] == ["invoices/1.pdf"]


HANDLER = """
import json, os, boto3

def lambda_handler(event, context):
    sqs = boto3.client("sqs", endpoint_url=os.environ["PARITY_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    account = os.environ["PARITY_ACCOUNT"]
    sqs.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", account))
    sqs.send_message(QueueUrl=os.environ["PARITY_QUEUE"], MessageBody=json.dumps(event))
    return {"ok": True}
"""


@pytest.mark.slow
@pytest.mark.moto_gap("Lambda targets raise NotImplementedError (500 on put_events)")
def test_lambda_target_runs_the_function(aws, unique, backend):
    """AWS (Lambda developer guide, EventBridge): EventBridge "invokes your function
    asynchronously with an event document" - the matched event is the handler's input."""
    from edalab.lambda_zip import ensure_lambda_role, zip_handler

    events = aws("events")
    sqs, url, arn = _queue(aws, unique, "from-lambda")
    role = ensure_lambda_role(aws("iam"), policy_arns=())
    fn = aws("lambda").create_function(
        FunctionName=unique("ship-order"), Runtime="python3.11", Role=role,
        Handler="handler.lambda_handler", Code={"ZipFile": zip_handler(HANDLER)}, Timeout=30,
        Environment={"Variables": {"PARITY_ENDPOINT": backend.endpoint,
                                   "PARITY_ACCOUNT": backend.account, "PARITY_QUEUE": url}})
    rule = unique("to-lambda")
    rule_arn = events.put_rule(Name=rule, EventPattern=ORDERS)["RuleArn"]
    aws("lambda").add_permission(FunctionName=fn["FunctionName"], StatementId="events",
                                 Action="lambda:InvokeFunction",
                                 Principal="events.amazonaws.com", SourceArn=rule_arn)
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn["FunctionArn"]}])
    _order_placed(events, "o-l")
    got = bodies(receive_all(sqs, url, expect=1, wait=30))
    assert [b["detail"]["orderId"] for b in got] == ["o-l"]


REFUSED_PATTERNS = [
    {"detail": {"ip": [{"cidr": "10.0.0.0/33"}]}},
    {"detail": {"ip": [{"cidr": "not-an-address"}]}},
    {"detail": {"state": [{"anything-but": None}]}},
    {"detail": {"name": [{"prefix": ""}]}},
    {"detail": {"name": [{"suffix": ""}]}},
    {"detail": {"total": [{"numeric": [">", 0, ">", 5]}]}},
    {"detail": {"path": [{"wildcard": "orders/**/1"}]}},
    {"detail": {"name": [{"anything-but": {"prefix": 5}}]}},
    {"detail": {"name": [{"anything-but": {"suffix": [".png"]}}]}},
    {"detail": {"name": [{"anything-but": {"equals-ignore-case": 5}}]}},
    {"detail": {"name": [{"anything-but": {"wildcard": 5}}]}},
]


@pytest.mark.moto_gap("some invalid patterns are accepted, some answer HTTP 500")
@pytest.mark.parametrize("pattern", REFUSED_PATTERNS, ids=lambda p: json.dumps(p)[:60])
def test_invalid_operands_are_refused(aws, unique, pattern):
    """AWS PutRule: "InvalidEventPatternException - The event pattern is not valid."; content
    filtering: prefix and suffix match "string values", "numeric" takes a range (one lower,
    one upper bound), cidr an IPv4 or IPv6 CIDR block, "anything-but" a string, a number or a
    list of only strings or only numbers (its prefix/suffix/equals-ignore-case/wildcard a
    string), wildcard patterns no consecutive "*"."""
    events = aws("events")
    with pytest.raises(ClientError) as err:
        events.put_rule(Name=unique("bad"), EventPattern=json.dumps(pattern))
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"


@pytest.mark.moto_gap("a rule stored with such a pattern makes every PutEvents on the bus "
                      "answer 500")
def test_a_bad_pattern_never_breaks_put_events(aws, unique):
    """AWS PutEvents delivers to every matching rule; a pattern AWS would have refused
    ("InvalidEventPatternException") never takes the bus down: the other rules keep
    receiving events."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    good = unique("good")
    events.put_rule(Name=good, EventPattern=ORDERS)
    events.put_targets(Rule=good, Targets=[{"Id": "q", "Arn": arn}])
    bad = {"detail": {"orderId": [{"anything-but": {"prefix": 5}}]}}
    with pytest.raises(ClientError):
        events.put_rule(Name=unique("bad"), EventPattern=json.dumps(bad))
    _order_placed(events, "o-7")
    assert [b["detail"]["orderId"] for b in bodies(receive_all(sqs, url, expect=1))] == ["o-7"]


@pytest.mark.moto_gap("exists does not look inside arrays of objects, and matches []")
def test_exists_inside_arrays_of_objects(aws):
    """AWS content filtering: "If the value in the event is an array, then the event pattern
    matches if the intersection of the event pattern array and the event array is non-empty"
    - the fields of objects inside an array are matched too; "Exists matching only works on
    leaf nodes", and an empty array holds no leaf."""
    events = aws("events")
    base = {"id": "1", "source": "shop.orders", "detail-type": "OrderPlaced",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": []}

    def matches(pattern, detail):
        return events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(
            {**base, "detail": detail}))["Result"]

    has_sku = {"detail": {"lines": {"sku": [{"exists": True}]}}}
    assert matches(has_sku, {"lines": [{"sku": "A-1"}, {"sku": "B-2"}]})
    assert not matches(has_sku, {"lines": [{"qty": 1}]})
    assert matches({"detail": {"lines": {"sku": ["B-2"]}}}, {"lines": [{"sku": "A-1"},
                                                                        {"sku": "B-2"}]})
    has_tags = {"detail": {"tags": [{"exists": True}]}}
    assert not matches(has_tags, {"tags": []})
    assert matches(has_tags, {"tags": ["gift"]})


@pytest.mark.moto_gap("an entry naming an unknown event bus fails the whole PutEvents")
def test_put_events_fails_only_the_entry_for_an_unknown_bus(aws, unique):
    """AWS PutEventsResultEntry: "If the submission was successful, the entry has the event ID
    in it. Otherwise, you can use the error code and error message to identify the problem
    with the entry." One entry for a bus that does not exist fails; the others are put."""
    events = aws("events")
    sqs, url, arn = _queue(aws, unique)
    rule = unique("orders")
    events.put_rule(Name=rule, EventPattern=ORDERS)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    resp = events.put_events(Entries=[
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "EventBusName": unique("nope"),
         "Detail": json.dumps({"orderId": "lost"})},
        {"Source": "shop.orders", "DetailType": "OrderPlaced",
         "Detail": json.dumps({"orderId": "o-8"})},
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": "{not json"}])
    assert resp["FailedEntryCount"] == 2
    first, second, third = resp["Entries"]
    assert first.get("ErrorCode") and "EventId" not in first
    assert second.get("EventId") and "ErrorCode" not in second
    assert third["ErrorCode"] == "MalformedDetail"
    assert [b["detail"]["orderId"] for b in bodies(receive_all(sqs, url, expect=1))] == ["o-8"]


@pytest.mark.moto_gap("a sixth target and malformed target ids are accepted")
def test_put_targets_limits(aws, unique):
    """AWS PutTargets: "Each rule can have up to five (5) targets associated with it at one
    time." (LimitExceededException); Target Id: "Pattern: [\\.\\-_A-Za-z0-9]+", 1 to 64
    characters."""
    events = aws("events")
    rule = unique("fan-out")
    events.put_rule(Name=rule, EventPattern=ORDERS)

    def target(i):
        return {"Id": f"q-{i}", "Arn": f"arn:aws:sqs:us-east-1:123456789012:q{i}"}

    events.put_targets(Rule=rule, Targets=[target(i) for i in range(5)])
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule=rule, Targets=[target(5)])
    assert err.value.response["Error"]["Code"] == "LimitExceededException"
    events.put_targets(Rule=rule, Targets=[target(0)])  # replacing one is fine
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule=rule, Targets=[{"Id": "my target!", "Arn": target(0)["Arn"]}])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert len(events.list_targets_by_rule(Rule=rule)["Targets"]) == 5
