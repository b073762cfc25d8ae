"""The policy evaluator of the embedded stack (``edalab.aws.iam``) against AWS's documented
evaluation rules and examples. Pure functions: no emulator needed (importing the module
patches nothing; only its ``install()`` does)."""

from __future__ import annotations

import json

from edalab.aws.iam import Principal, evaluate

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/shipper"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:order-events"
ROLE_CALLER = Principal(account=ACCOUNT, role_arn=ROLE, session_name="ship-orders")
SNS = Principal(account=ACCOUNT, service="sns.amazonaws.com")


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action="sqs:SendMessage", resource=QUEUE, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_implicit_deny_without_any_allow():
    """AWS: "By default, all requests are implicitly denied"; the message names the missing
    kind of policy ("because no identity-based policy allows the ... action")."""
    decision = evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER, identity=[policy()])
    assert not decision
    assert "no identity-based policy allows the sqs:SendMessage action" in decision.reason


def test_explicit_deny_overrides_allow():
    """AWS: "An explicit deny in any of the policies overrides the allow." """
    deny = {"Effect": "Deny", "Action": "sqs:*", "Resource": QUEUE}
    decision = evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER,
                        identity=[policy(allow()), policy(deny)])
    assert not decision and "explicit deny" in decision.reason


def test_same_account_identity_or_resource_policy_is_enough():
    """AWS: "If either the identity-based policy or the resource-based policy within the same
    account allows the request and the other doesn't, the request is still allowed." """
    by_resource = policy(allow(Principal={"AWS": ROLE}))
    assert evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER, identity=[],
                    resource_policy=by_resource)
    assert evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER, identity=[policy(allow())])


def test_cross_account_needs_both():
    """AWS (cross-account policy evaluation): "the identity-based policy of the requester and
    the resource-based policy of the resource must both allow the request"."""
    other_queue = "arn:aws:sqs:us-east-1:210987654321:orders"
    identity = [policy(allow(resource=other_queue))]
    assert not evaluate("sqs:SendMessage", other_queue, ROLE_CALLER, identity=identity)
    assert evaluate("sqs:SendMessage", other_queue, ROLE_CALLER, identity=identity,
                    resource_policy=policy(allow(resource=other_queue, Principal={"AWS": ROLE})))


def test_action_names_are_case_insensitive_and_take_wildcards():
    """AWS (IAM JSON policy elements: Action): "Action names are not case sensitive" and "You
    can use wildcards (* or ?) in the action name"."""
    for action in ("SQS:sendmessage", "sqs:Send*", "sqs:*", "*", "sqs:SendMessag?"):
        assert evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER,
                        identity=[policy(allow(action=action))]), action
    assert not evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER,
                        identity=[policy(allow(action="sqs:Receive*"))])


def test_resources_are_case_sensitive_with_wildcards():
    """AWS (IAM JSON policy elements: Resource): resource ARNs can use wildcards; names in
    ARNs are case sensitive (an SQS queue named Orders is not orders)."""
    assert evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER,
                    identity=[policy(allow(resource="arn:aws:sqs:*:*:ord*"))])
    assert not evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER,
                        identity=[policy(allow(resource=QUEUE.replace("orders", "Orders")))])


def test_not_action_and_not_resource():
    """AWS: NotAction / NotResource match every action / resource except those listed."""
    stmt = {"Effect": "Allow", "NotAction": "sqs:DeleteQueue", "NotResource": TOPIC}
    assert evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER, identity=[policy(stmt)])
    assert not evaluate("sqs:DeleteQueue", QUEUE, ROLE_CALLER, identity=[policy(stmt)])


SNS_TO_QUEUE = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": QUEUE,
                "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}}}


def test_service_principal_with_source_arn_condition():
    """AWS (SNS developer guide, the queue policy for a subscription): Allow
    ``sns.amazonaws.com`` ``sqs:SendMessage`` with ``"Condition": {"ArnEquals":
    {"aws:SourceArn": "<topic ARN>"}}`` - another topic, or another service, is refused."""
    rp = policy(SNS_TO_QUEUE)
    assert evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=rp,
                    context={"aws:SourceArn": TOPIC})
    assert not evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=rp,
                        context={"aws:SourceArn": TOPIC + "-other"})
    events = Principal(account=ACCOUNT, service="events.amazonaws.com")
    assert not evaluate("sqs:SendMessage", QUEUE, events, resource_policy=rp,
                        context={"aws:SourceArn": TOPIC})


def test_condition_on_a_missing_key_is_false_unless_negated_or_if_exists():
    """AWS (Condition operators): "If the key that you specify in a policy condition is not
    present in the request context, the values do not match and the condition is false. If
    the policy condition requires that the key is not matched, such as StringNotLike or
    ArnNotLike, and the right key is not present, the condition is true." ...IfExists: "If
    the policy key is present in the context of the request, process the key as specified in
    the policy. If the key is not present, evaluate the condition element as true." """
    rp = policy(SNS_TO_QUEUE)
    assert not evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=rp)
    negated = {**SNS_TO_QUEUE, "Condition": {"ArnNotLike": {"aws:SourceArn": TOPIC}}}
    assert evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=policy(negated))
    if_exists = {**SNS_TO_QUEUE, "Condition": {"ArnEqualsIfExists": {"aws:SourceArn": TOPIC}}}
    assert evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=policy(if_exists))


def test_arn_like_matches_segment_by_segment_and_keys_ignore_case():
    """AWS (ARN condition operators): "Each of the six colon-delimited components of the ARN
    is checked separately and each can include multi-character match wildcards (*) or
    single-character match wildcards (?)". Condition key names are not case sensitive
    (Lambda's AddPermission writes ``AWS:SourceArn``)."""
    stmt = {**SNS_TO_QUEUE, "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:*:*:order-*"}}}
    assert evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=policy(stmt),
                    context={"aws:SourceArn": TOPIC})
    # "*" stays inside its segment: it cannot swallow the account and region parts.
    stmt = {**SNS_TO_QUEUE, "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:order-events"}}}
    assert not evaluate("sqs:SendMessage", QUEUE, SNS, resource_policy=policy(stmt),
                        context={"aws:SourceArn": TOPIC})


def test_source_account_and_multiple_conditions():
    """AWS (S3 user guide, the queue policy for event notifications): ``ArnLike``
    ``aws:SourceArn`` the bucket AND ``StringEquals`` ``aws:SourceAccount`` the bucket owner.
    "If your policy statement has multiple condition operators, the condition operators are
    evaluated using a logical AND"; "If a single condition operator includes multiple values
    for a context key, those values are evaluated using a logical OR." """
    s3 = Principal(account=ACCOUNT, service="s3.amazonaws.com")
    stmt = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["SQS:SendMessage"], "Resource": QUEUE,
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:uploads"},
                          "StringEquals": {"aws:SourceAccount": ["111111111111", ACCOUNT]}}}
    context = {"aws:SourceArn": "arn:aws:s3:::uploads", "aws:SourceAccount": ACCOUNT}
    assert evaluate("sqs:SendMessage", QUEUE, s3, resource_policy=policy(stmt), context=context)
    assert not evaluate("sqs:SendMessage", QUEUE, s3, resource_policy=policy(stmt),
                        context={**context, "aws:SourceAccount": "999999999999"})


def test_service_principal_needs_the_resource_policy():
    """A service principal has no identity-based policy: only the destination's resource
    policy can allow its delivery (AWS: "you must set a policy on the queue that allows the
    Amazon SNS topic to perform the sqs:SendMessage action")."""
    decision = evaluate("sqs:SendMessage", QUEUE, SNS, context={"aws:SourceArn": TOPIC})
    assert not decision and "no resource-based policy" in decision.reason


def test_aws_managed_sqs_execution_policy_allows_what_a_mapping_needs():
    """AWS: "The AWSLambdaSQSQueueExecutionRole AWS managed policy includes the permissions
    that Lambda needs to read from your Amazon SQS queue." (the document moto ships)"""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document = json.loads(aws_managed_policies_data)["AWSLambdaSQSQueueExecutionRole"]["Document"]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert evaluate(action, QUEUE, ROLE_CALLER, identity=[document])
    assert not evaluate("sqs:SendMessage", QUEUE, ROLE_CALLER, identity=[document])


def test_edalab_iam_off_allows_everything(monkeypatch):
    """``EDALAB_IAM=off`` restores the emulator's old behaviour (no checks at all); any other
    value, or none, enforces."""
    from edalab.aws import iam

    monkeypatch.setenv("EDALAB_IAM", "off")
    assert not iam.enforced()
    assert iam.delivery_allowed("sns.amazonaws.com", TOPIC, QUEUE)
    assert iam.role_allows(ROLE, iam.SQS_MAPPING_ACTIONS, QUEUE) == []
    monkeypatch.delenv("EDALAB_IAM")
    assert iam.enforced()


def test_session_token_names_the_role_and_function():
    """A handler's credentials carry its execution role (AWS: the function "assumes" it, with
    the function name as the role session name); other callers' tokens name no role."""
    from edalab.aws import iam

    assert iam.role_of_token(iam.session_token(ROLE, "ship-orders")) == (ROLE, "ship-orders")
    assert iam.role_of_token("test") is None and iam.role_of_token(None) is None
