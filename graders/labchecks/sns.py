"""Checks on the learner's SNS topics and subscriptions (protocol, endpoint, filter policy, raw
delivery), looked up by name in the learner's own account."""

from __future__ import annotations

import json

from . import LabCheckError, check
from .aws import client


def find_topic_arn(name: str, hint: str = "Run the cell that creates it, then this check again.") -> str:
    """ARN of the learner's topic ``name`` or a LabCheckError listing the topics there are."""
    sns = client("sns")
    arns = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    for arn in arns:
        if arn.rsplit(":", 1)[-1] == name:
            return arn
    names = ", ".join(a.rsplit(":", 1)[-1] for a in arns) or "none"
    raise LabCheckError(f"There is no SNS topic named {name!r} in your account (topics: {names}). {hint}")


def read_topic_attributes(name: str) -> dict:
    return client("sns").get_topic_attributes(TopicArn=find_topic_arn(name))["Attributes"]


def list_topic_subscriptions(topic: str) -> list[dict]:
    sns = client("sns")
    arn = find_topic_arn(topic)
    return [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            for s in page["Subscriptions"]]


def find_subscription(topic: str, protocol: str, endpoint_suffix: str, fix: str) -> dict:
    """The subscription of ``topic`` with ``protocol`` whose endpoint ends with ``endpoint_suffix``
    (a queue or function name), with its attributes merged in."""
    subs = list_topic_subscriptions(topic)
    for sub in subs:
        if sub["Protocol"] == protocol and sub["Endpoint"].endswith(endpoint_suffix):
            attrs = client("sns").get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
            return {**sub, **attrs["Attributes"]}
    have = ", ".join(f"{s['Protocol']}:{s['Endpoint'].rsplit(':', 1)[-1]}" for s in subs) or "none"
    raise LabCheckError(f"Topic {topic!r} has no {protocol} subscription for {endpoint_suffix!r} "
                        f"(it has: {have}). {fix}")


def read_filter_policy(sub: dict) -> dict | None:
    raw = sub.get("FilterPolicy")
    return json.loads(raw) if raw else None


def check_raw_delivery(sub: dict, expected: bool, fix: str) -> None:
    actual = str(sub.get("RawMessageDelivery", "false")).lower() == "true"
    check(actual == expected,
          f"Subscription {sub['Endpoint'].rsplit(':', 1)[-1]!r} has RawMessageDelivery={actual}, "
          f"expected {expected}. {fix}")


def unwrap_envelope(body: str) -> str:
    """The published message inside an SQS body delivered without raw delivery."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        return envelope.get("Message", "")
    return body


def delete_topics(*names: str) -> list[str]:
    """Delete the learner's topics ``names`` and their subscriptions, if they exist."""
    sns = client("sns")
    gone = []
    for name in names:
        try:
            arn = find_topic_arn(name)
        except LabCheckError:
            continue
        for sub in list_topic_subscriptions(name):
            if sub["SubscriptionArn"].startswith("arn:"):
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        sns.delete_topic(TopicArn=arn)
        gone.append(name)
    return gone
