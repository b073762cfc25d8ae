"""Permissions as AWS enforces them: queue, topic and function policies, execution roles.

moto stores every policy and enforces none, so on a plain emulator a delivery works whether
or not the queue policy, the function's resource policy or the execution role allows it - and
the learner's first real deployment is the first place a missing permission shows. Here:

* **Service deliveries** (SNS, S3 and EventBridge to SQS, SNS and Lambda) are checked against
  the destination's resource policy, with the service principal (``sns.amazonaws.com``...) and
  ``aws:SourceArn`` / ``aws:SourceAccount`` in the request context. A refused delivery is not
  made; it is logged and counted where AWS counts it (SNS ``NumberOfNotificationsFailed``,
  EventBridge ``FailedInvocations``); S3 refuses the notification configuration itself
  ("Unable to validate the following destination configurations").
* **CreateEventSourceMapping** for an SQS queue needs an execution role that allows
  ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and ``sqs:GetQueueAttributes``.
* **Calls a Lambda handler makes** carry credentials of the function's execution role (the
  session token ``session_token(role_arn)``); the emulator evaluates them against the role's
  inline and managed policies and the resource's policy, and answers AccessDenied as AWS does.
* AWS managed policies (``arn:aws:iam::aws:policy/...``) can be attached, with AWS's documents.

Calls from the notebook carry no such token: they act as the account's administrator, as on
a fresh AWS account. ``EDALAB_IAM=off`` in the emulator's environment switches enforcement off.

The evaluator is hand-written, after AWS's "Policy evaluation logic" (explicit deny, then any
allow, else implicit deny; same-account requests need one allow from either an identity-based
or a resource-based policy; cross-account requests need both). moto's own evaluator
(``moto.iam.access_control``) does not fit: it ignores every Principal other than ``"*"``,
knows only ``StringEquals``, lets a condition on a missing key pass, turns an Allow whose
condition fails into a Deny, and matches actions case-sensitively. No maintained Python
library evaluates a request against policies (the ones on PyPI lint or expand policies); the
complete evaluator is a TypeScript package. This one covers what the course uses and is
tested against AWS's documented examples in ``tests/parity/test_iam.py``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import re
from dataclasses import dataclass

log = logging.getLogger("edalab.aws.iam")

TOKEN_PREFIX = "EDALABROLE"
SQS_MAPPING_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def enforced() -> bool:
    """On unless ``EDALAB_IAM`` says off (read per call: tests flip it in-process)."""
    return os.environ.get("EDALAB_IAM", "on").strip().lower() not in ("off", "0", "false", "no")


# -- credentials of an execution role ---------------------------------------------------------
def session_token(role_arn: str, function_name: str = "") -> str:
    """The session token a handler's boto3 sends (AWS_SESSION_TOKEN): its execution role, and
    the function name AWS uses as the role session's name."""
    raw = f"{role_arn}|{function_name}".encode()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def role_of_token(token: str | None) -> tuple[str, str] | None:
    """(role ARN, function name) of a handler's session token; None for any other caller."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    raw = token[len(TOKEN_PREFIX):]
    try:
        role_arn, _, function_name = base64.urlsafe_b64decode(
            raw + "=" * (-len(raw) % 4)).decode().partition("|")
    except ValueError:
        return None
    return role_arn, function_name


# -- the evaluator ------------------------------------------------------------------------------
@dataclass
class Principal:
    """Who asks: a service (``sns.amazonaws.com``) or a role session of ``account``."""

    account: str
    service: str | None = None
    role_arn: str | None = None
    session_name: str = "edalab"

    @property
    def session_arn(self) -> str | None:
        if not self.role_arn:
            return None
        return (f"arn:aws:sts::{self.account}:assumed-role/"
                f"{self.role_arn.rsplit('/', 1)[-1]}/{self.session_name}")

    @property
    def name(self) -> str:
        return self.service or self.session_arn or self.account


@dataclass
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    """``*`` any run of characters, ``?`` one character, everything else literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard(str(pattern), ignore_case).match(str(value)))


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts match one by one ("Each of the six colon-delimited
    components of the ARN is checked separately and each can include multi-character match
    wildcards (*) or single-character match wildcards (?)")."""
    p, v = str(pattern).split(":", 5), str(value).split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return pattern == value
    return all(_like(a, b) for a, b in zip(p, v))


def _action_matches(patterns, action: str) -> bool:
    # "Action names are not case sensitive": sqs:sendmessage is sqs:SendMessage.
    return any(_like(p, action, ignore_case=True) for p in _as_list(patterns))


def _resource_matches(patterns, resource: str | None) -> bool:
    if resource in (None, "*"):  # an action on no particular resource
        return True
    return any(_like(p, resource) for p in _as_list(patterns))


def _principal_matches(element, who: Principal) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _as_list(values):
            if kind.lower() == "service" and who.service and value.lower() == who.service.lower():
                return True
            if kind.lower() == "aws" and (value == "*" or
                                          (who.role_arn and value in (who.role_arn, who.session_arn))):
                return True
    return False


def _string_op(name: str):
    ops = {
        "stringequals": lambda p, v: p == v,
        "stringnotequals": lambda p, v: p == v,
        "stringequalsignorecase": lambda p, v: p.lower() == v.lower(),
        "stringnotequalsignorecase": lambda p, v: p.lower() == v.lower(),
        "stringlike": lambda p, v: _like(p, v),
        "stringnotlike": lambda p, v: _like(p, v),
        "arnequals": _arn_like,  # "ArnEquals and ArnLike behave identically"
        "arnlike": _arn_like,
        "arnnotequals": _arn_like,
        "arnnotlike": _arn_like,
        "bool": lambda p, v: str(p).lower() == str(v).lower(),
    }
    return ops.get(name)


def _condition_holds(operator: str, key: str, expected, context: dict) -> bool:
    op = operator.lower()
    qualifier = None
    if ":" in op:
        qualifier, op = op.split(":", 1)  # ForAnyValue: / ForAllValues:
    if_exists = op.endswith("ifexists")
    if if_exists:
        op = op[: -len("ifexists")]
    present = key.lower() in context
    if op == "null":  # Null: true means "the key is absent"
        return any(str(e).lower() == str(not present).lower() for e in _as_list(expected))
    compare = _string_op(op)
    if compare is None:
        log.warning("IAM condition operator %s is not supported here; the statement does not "
                    "apply", operator)
        return False
    negated = "not" in op
    if not present:
        # "If the key ... is not present in the request context, the values do not match",
        # except for ...IfExists and for negated operators, which then hold.
        return if_exists or negated or qualifier == "forallvalues"
    values = _as_list(context[key.lower()])
    expected = [str(e) for e in _as_list(expected)]
    hits = [any(compare(e, str(v)) for e in expected) for v in values]
    if qualifier == "forallvalues":
        return all(hits) if not negated else not any(hits)
    return any(hits) if not negated else not any(hits)


def _conditions_hold(block, context: dict) -> bool:
    # Operators, and keys within an operator, are ANDed; the values of one key are ORed.
    for operator, keys in (block or {}).items():
        for key, expected in (keys or {}).items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def statement_applies(stmt: dict, action: str, resource: str | None, who: Principal | None,
                      context: dict) -> bool:
    """Whether one statement is about this request (its Effect says what it does)."""
    if "NotAction" in stmt:
        if _action_matches(stmt["NotAction"], action):
            return False
    elif not _action_matches(stmt.get("Action"), action):
        return False
    if "NotResource" in stmt:
        if _resource_matches(stmt["NotResource"], resource):
            return False
    elif "Resource" in stmt and not _resource_matches(stmt["Resource"], resource):
        return False
    if who is not None:  # a resource-based policy: it names whom it is about
        if "NotPrincipal" in stmt:
            if _principal_matches(stmt["NotPrincipal"], who):
                return False
        elif not _principal_matches(stmt.get("Principal"), who):
            return False
    return _conditions_hold(stmt.get("Condition"), context)


def _statements(document) -> list[dict]:
    if not document:
        return []
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            from urllib.parse import unquote

            document = json.loads(unquote(document))
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _effects(documents, action, resource, who, context) -> set[str]:
    found = set()
    for document in documents:
        for stmt in _statements(document):
            if statement_applies(stmt, action, resource, who, context):
                found.add(str(stmt.get("Effect", "")).capitalize())
    return found


def evaluate(action: str, resource: str | None, who: Principal, *, identity=(),
             resource_policy=None, context: dict | None = None) -> Decision:
    """AWS's decision for one request: explicit deny, else an allow, else implicit deny.

    ``identity``: the principal's identity-based policy documents (none for a service
    principal); ``resource_policy``: the resource's policy document, if it has one.
    """
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    ctx.setdefault("aws:principalaccount", who.account)
    if who.service:
        ctx.setdefault("aws:principalservicename", who.service)
    if who.role_arn:
        ctx.setdefault("aws:principalarn", who.role_arn)
    by_identity = _effects(identity, action, resource, None, ctx)
    by_resource = _effects([resource_policy] if resource_policy else [], action, resource, who, ctx)
    if "Deny" in by_identity or "Deny" in by_resource:
        where = "an identity-based" if "Deny" in by_identity else "a resource-based"
        return Decision(False, f"with an explicit deny in {where} policy")
    resource_account = (resource or "").split(":")[4] if (resource or "").count(":") >= 5 else ""
    cross_account = bool(resource_account) and resource_account != who.account
    if who.service:
        if "Allow" in by_resource:
            return Decision(True)
        return Decision(False, "because no resource-based policy allows the "
                               f"{action} action")
    if cross_account:
        if "Allow" in by_identity and "Allow" in by_resource:
            return Decision(True)
        missing = "identity-based" if "Allow" not in by_identity else "resource-based"
        return Decision(False, f"because no {missing} policy allows the {action} action")
    if "Allow" in by_identity or "Allow" in by_resource:
        return Decision(True)
    return Decision(False, f"because no identity-based policy allows the {action} action")


# -- what the emulator holds: roles, queue / topic / function policies --------------------------
def role_policies(role_arn: str) -> list:
    """Inline and attached managed policy documents of a role (empty if it does not exist)."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    try:
        role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return []
    documents = list(role.policies.values())
    for policy in list(role.managed_policies.values()):
        default = next((v for v in policy.versions if v.is_default), None)
        documents.append(default.document if default is not None else None)
    return [d for d in documents if d]


def resource_policy(arn: str):
    """The resource-based policy of a queue, topic or function ARN (None if it has none)."""
    parts = arn.split(":")
    if len(parts) < 6:
        return None
    service, region, account = parts[2], parts[3], parts[4]
    try:
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            return sqs_backends[account][region].get_queue(parts[5]).policy
        if service == "sns":
            from moto.sns.models import sns_backends

            return sns_backends[account][region].get_topic(":".join(parts[:6]))._policy_json
        if service == "lambda":
            from moto.awslambda.utils import get_backend

            name = parts[6] if len(parts) > 6 else parts[5]
            qualifier = parts[7] if len(parts) > 7 else None
            fn = get_backend(account, region).get_function(name, qualifier)
            if not (fn.policy and fn.policy.statements):
                return None
            # moto files AddPermission's statements under "<function ARN>:$LATEST"; AWS under
            # the function ARN (or the qualified ARN when a Qualifier was given).
            return {"Statement": [
                {**st, "Resource": [r[: -len(":$LATEST")] if r.endswith(":$LATEST") else r
                                    for r in _as_list(st.get("Resource"))]}
                for st in fn.policy.statements]}
    except Exception:  # gone: the delivery fails for that reason instead
        return None
    return None


DELIVERY_ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish",
                    "lambda": "lambda:InvokeFunction"}


def delivery_allowed(service_principal: str, source_arn: str, target_arn: str,
                     source_account: str | None = None) -> Decision:
    """May ``service_principal`` (acting for ``source_arn``) deliver to ``target_arn``?"""
    if not enforced():
        return Decision(True)
    service = target_arn.split(":")[2] if target_arn.count(":") >= 5 else ""
    action = DELIVERY_ACTIONS.get(service)
    if action is None:
        return Decision(True)
    account = source_account or source_arn.split(":")[4] or target_arn.split(":")[4]
    target = target_arn
    if service == "lambda":
        target = ":".join(target_arn.split(":")[:7])  # the policy names the function
    decision = evaluate(action, target, Principal(account=account, service=service_principal),
                        resource_policy=resource_policy(target_arn),
                        context={"aws:SourceArn": source_arn, "aws:SourceAccount": account})
    if not decision:
        log.warning("%s may not %s on %s (for %s) %s", service_principal, action, target_arn,
                    source_arn, decision.reason)
    return decision


def role_allows(role_arn: str, actions, resource: str) -> list[str]:
    """The actions of ``actions`` the execution role may NOT perform on ``resource``."""
    if not enforced():
        return []
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    who = Principal(account=account, role_arn=role_arn)
    identity = role_policies(role_arn)
    return [a for a in actions
            if not evaluate(a, resource, who, identity=identity,
                            resource_policy=resource_policy(resource))]


DESTINATION_ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish",
                       "lambda": "lambda:InvokeFunction", "events": "events:PutEvents"}


def destination_allowed(role_arn: str, target_arn: str) -> bool:
    """Lambda sends an asynchronous invocation record to its destination with the function's
    execution role ("the execution role needs permission to call sqs:SendMessage" etc.)."""
    action = DESTINATION_ACTIONS.get(target_arn.split(":")[2] if target_arn.count(":") >= 5 else "")
    if action is None or not enforced():
        return True
    missing = role_allows(role_arn, [action], target_arn)
    if missing:
        log.warning("Lambda destination %s not delivered: the execution role %s may not %s",
                    target_arn, role_arn, action)
    return not missing


def record_failure(account: str, region: str, namespace: str, metric: str,
                   dimensions: dict) -> None:
    """Count a failed delivery in CloudWatch, where AWS counts it."""
    try:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account][region].put_metric_data(namespace, [{
            "MetricName": metric, "Value": 1.0, "Unit": "Count",
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}])
    except Exception:
        log.exception("could not record %s/%s", namespace, metric)


# -- calls a handler makes with its execution role's credentials -------------------------------
JSON_SERVICES = {"lambda", "dynamodb", "events", "logs", "sqs"}
DENIED_CODES = {"sqs": ("AccessDenied", 403), "sns": ("AuthorizationError", 403),
                "lambda": ("AccessDeniedException", 403), "s3": ("AccessDenied", 403)}
# API operations whose IAM action has another name.
ACTION_NAMES = {"lambda:Invoke": "lambda:InvokeFunction",
                "sqs:SendMessageBatch": "sqs:SendMessage",
                "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
                "sns:PublishBatch": "sns:Publish",
                "s3:ListObjectsV2": "s3:ListBucket", "s3:ListObjects": "s3:ListBucket",
                "s3:HeadObject": "s3:GetObject", "s3:HeadBucket": "s3:ListBucket"}


def _request_resource(response, service: str, account: str, region: str, given: str):
    """The ARN a request acts on, as far as the course's calls go (None: any resource)."""
    if given and given != "*":
        return given  # moto worked it out (SQS queues, S3 buckets and objects)
    try:
        if service == "sns":
            return response._get_param("TopicArn") or response._get_param("TargetArn") or None
        if service == "lambda":
            from urllib.parse import unquote

            match = re.search(r"/functions/([^/]+)", response.path or "")
            if match:
                name = unquote(match.group(1))
                if name.startswith("arn:"):
                    return ":".join(name.split(":")[:7])
                return f"arn:aws:lambda:{region}:{account}:function:{name.split(':')[0]}"
            return None
        body = response.body if service in ("dynamodb", "events") else {}
        if isinstance(body, (str, bytes)):  # DynamoDB's handler has parsed it already
            body = json.loads(body or "{}")
        if service == "dynamodb" and body.get("TableName"):
            return f"arn:aws:dynamodb:{region}:{account}:table/{body['TableName']}"
        if service == "events":
            entries = body.get("Entries") or [{}]
            bus = entries[0].get("EventBusName") or body.get("EventBusName") or "default"
            return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}"
    except Exception:
        return None
    return None


def authorize_handler_call(response, resource: str) -> None:
    """Raise AWS's AccessDenied if the calling handler's execution role may not do this."""
    caller = role_of_token(response.headers.get("X-Amz-Security-Token"))
    if caller is None or not enforced():
        return
    role_arn, function_name = caller
    authorization = response.headers.get("Authorization") or ""
    scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
    service = scope[3] if len(scope) > 3 else getattr(response, "service_name", "")
    operation = response._get_action()
    if isinstance(operation, list):
        operation = operation[0]
    action = f"{service}:{operation}"
    if action == "sts:GetCallerIdentity":  # "No permissions are required"
        return
    action = ACTION_NAMES.get(action, action)
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else response.current_account
    region = scope[2] if len(scope) > 2 else "us-east-1"
    target = _request_resource(response, service, account, region, resource)
    who = Principal(account=account, role_arn=role_arn,
                    session_name=function_name or "lambda")
    decision = evaluate(action, target, who, identity=role_policies(role_arn),
                        resource_policy=resource_policy(target) if target else None)
    if decision:
        return
    on = f" on resource: {target}" if target else ""
    message = f"User: {who.session_arn} is not authorized to perform: {action}{on} {decision.reason}"
    log.warning("handler call refused: %s", message)
    from moto.core.exceptions import JsonRESTError, _RESTError

    code, status = DENIED_CODES.get(service, ("AccessDeniedException", 400))
    json_protocol = service in JSON_SERVICES and (service != "sqs"
                                                  or response.headers.get("X-Amz-Target"))
    err = (JsonRESTError if json_protocol else _RESTError)(code, message)
    err.code = status
    if service == "s3":  # S3 answers <Error><Code>, not the query APIs' <ErrorResponse>
        from xml.sax.saxutils import escape

        err.description = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied'
                           f"</Code><Message>{escape(message)}</Message></Error>")
    raise err


# -- install -----------------------------------------------------------------------------------
def _attach_aws_managed_policies() -> None:
    """AttachRolePolicy with an AWS managed policy ARN works, with AWS's document (moto only
    knows them when told to load all 1,500 into every account)."""
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    attach = IAMBackend.attach_role_policy

    def attach_role_policy(self, policy_arn: str, role_name: str) -> None:
        prefix = "arn:aws:iam::aws:policy/"
        if policy_arn.startswith(prefix) and policy_arn not in self.managed_policies:
            document = _aws_managed_policy(policy_arn.rsplit("/", 1)[-1])
            if document is not None:
                policy = AWSManagedPolicy.from_data(policy_arn.rsplit("/", 1)[-1], self.account_id,
                                                    self.region_name, document)
                if policy.arn == policy_arn:
                    self.managed_policies[policy_arn] = policy
        return attach(self, policy_arn, role_name)

    IAMBackend.attach_role_policy = attach_role_policy


@functools.lru_cache(maxsize=64)
def _aws_managed_policy(name: str):
    """One policy out of moto's 4.7 MB JSON text, decoded alone (decoding all 1,500 would
    cost the emulator tens of MB for good)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data as text

    at = text.find(f'\n "{name}":')
    if at < 0:
        return None
    start = text.index("{", at)
    return json.JSONDecoder().raw_decode(text, start)[0]


def _check_sns_deliveries() -> None:
    from moto.sns.models import Subscription

    publish = Subscription.publish

    names = ("message", "message_id", "subject", "message_attributes", "group_id",
             "deduplication_id", "message_structure")

    def guarded_publish(self, *args, **kwargs):
        given = {**dict(zip(names, args)), **kwargs}
        matcher = self._filter_policy_matcher  # a filtered-out message is no delivery attempt
        if self.protocol in ("sqs", "lambda") and enforced() and (
                matcher is None or matcher.matches(given.get("message_attributes") or {},
                                                   given.get("message"))):
            if not delivery_allowed("sns.amazonaws.com", self.topic.arn, self.endpoint,
                                    source_account=self.account_id):
                # "NumberOfNotificationsFailed: The number of messages that Amazon SNS failed
                # to deliver."
                parts = self.topic.arn.split(":")
                record_failure(parts[4], parts[3], "AWS/SNS", "NumberOfNotificationsFailed",
                               {"TopicName": parts[5]})
                # A client-side error: the subscription's dead-letter queue gets the message.
                from .sns import dead_letter

                dead_letter(self, *(given.get(name) for name in names))
                return None
        return publish(self, *args, **kwargs)

    Subscription.publish = guarded_publish


def _check_s3_notifications() -> None:
    from moto.s3 import notifications
    from moto.s3.exceptions import InvalidArgumentError
    from moto.s3.models import S3Backend

    put = S3Backend.put_bucket_notification_configuration

    def put_bucket_notification_configuration(self, bucket_name, notification_config):
        bucket = self.get_bucket(bucket_name)
        refused = []
        for kind in ("QueueConfiguration", "TopicConfiguration", "CloudFunctionConfiguration"):
            for config in (notification_config or {}).get(kind) or []:
                arn = config.get("Queue") or config.get("Topic") or config.get("CloudFunction") or ""
                if not delivery_allowed("s3.amazonaws.com", f"arn:aws:s3:::{bucket.name}", arn,
                                        source_account=bucket.account_id):
                    refused.append(arn)
        if refused:
            # "Unable to validate the following destination configurations"
            raise InvalidArgumentError("Unable to validate the following destination "
                                       "configurations", ", ".join(refused), "")
        return put(self, bucket_name, notification_config)

    S3Backend.put_bucket_notification_configuration = put_bucket_notification_configuration

    def bucket_of(event_body) -> tuple[str, str]:
        try:
            record = event_body["Records"][0]
            return record["s3"]["bucket"]["arn"], record["s3"]["bucket"]["ownerIdentity"]["principalId"]
        except (KeyError, IndexError, TypeError):
            return f"arn:aws:s3:::{(event_body or {}).get('Bucket', '')}", ""

    def guard(send, target_of):
        def guarded(account_id, event_body, where, region_name):
            bucket_arn, owner = bucket_of(event_body)
            if delivery_allowed("s3.amazonaws.com", bucket_arn,
                                target_of(account_id, where, region_name),
                                source_account=owner or account_id):
                return send(account_id, event_body, where, region_name)
            return None
        return guarded

    notifications._send_sqs_message = guard(
        notifications._send_sqs_message, lambda a, name, r: f"arn:aws:sqs:{r}:{a}:{name}")
    notifications._send_sns_message = guard(notifications._send_sns_message, lambda a, arn, r: arn)
    notifications._invoke_awslambda = guard(notifications._invoke_awslambda, lambda a, arn, r: arn)


def rule_may_deliver(rule, target: dict) -> bool:
    """EventBridge's check before it sends a matched event to one target: on refusal AWS
    counts ``FailedInvocations`` ("Measures the number of invocations that failed
    permanently") and sends nothing."""
    if not enforced():
        return True
    if delivery_allowed("events.amazonaws.com", rule.arn, target["Arn"],
                        source_account=rule.account_id):
        return True
    record_failure(rule.account_id, rule.region_name, "AWS/Events", "FailedInvocations",
                   {"RuleName": rule.name})
    return False


def sqs_mapping_refusal(function_arn: str, role_arn: str, queue_arn: str) -> str | None:
    """AWS's InvalidParameterValueException message if the role cannot read the queue."""
    missing = role_allows(role_arn, SQS_MAPPING_ACTIONS, queue_arn)
    if not missing:
        return None
    return ("The provided execution role does not have permissions to call "
            f"{missing[0].split(':')[1]} on SQS")


def install() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_and_authorize(self, iam_request_cls, resource="*"):
        authorize_handler_call(self, resource)
        return authorize(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize
    _attach_aws_managed_policies()
    _check_sns_deliveries()
    _check_s3_notifications()
