"""SNS subscription filter policies as AWS documents them (installed by ``sns.install``).

moto's own checks and matcher differ from AWS where a learner writes a policy: ``$or``
policies AWS accepts were refused as "too complex" (each branch multiplied the count instead
of adding to it); ``cidr`` was an unrecognized match type; dotted keys and arrays of objects
or of arrays in a ``MessageBody`` policy did not match; invalid policies AWS refuses were
accepted (or answered 500); an invalid ``FilterPolicyScope`` was stored and the next
``FilterPolicy`` answered 500; a new scope was not applied to the policy already set; and
``FilterPolicy=""`` stayed listed.

Matching reuses the EventBridge pattern matcher (``edalab.aws.events``): SNS filter policies
and EventBridge patterns share their operators and their array semantics. Message attributes
become the event: String as text, Number as a number, String.Array as a list; Binary is
never matched.
"""

from __future__ import annotations

import json

MAX_KEYS = 5            # "A filter policy can have a maximum of five keys."
MAX_COMBINATIONS = 150  # "The total combination of values in a filter policy must not exceed 150."
NUMBER_LIMIT = 1e9      # "the value can range from -10^9 to 10^9"
SCOPES = ("MessageAttributes", "MessageBody")
KEYWORDS = {"exists", "prefix", "suffix", "anything-but", "numeric", "equals-ignore-case",
            "cidr"}


def _invalid(reason: str):
    from moto.sns.exceptions import SNSInvalidParameter

    return SNSInvalidParameter(f"Invalid parameter: FilterPolicy: {reason}")


def _is_or(key: str, value) -> bool:
    """AWS: "$or" is an OR only when it holds an array of at least 2 objects, none of whose
    field names is a reserved keyword; otherwise it is an attribute name like any other."""
    return (key == "$or" and isinstance(value, list) and len(value) >= 2
            and all(isinstance(v, dict) for v in value)
            and not any(k in KEYWORDS for v in value for k in v))


def _alternatives(policy: dict) -> list[dict]:
    """The policy with every ``$or`` expanded: a list of policies without ``$or``."""
    out = [{}]
    for key, value in policy.items():
        if _is_or(key, value):
            branches = [alt for branch in value for alt in _alternatives(branch)]
            out = [{**done, **branch} for done in out for branch in branches]
        elif isinstance(value, dict):
            out = [{**done, key: sub} for done in out for sub in _alternatives(value)]
        else:
            out = [{**done, key: value} for done in out]
    return out


def _combinations(policy: dict, depth: int = 1) -> int:
    total = 1
    for value in policy.values():
        if isinstance(value, dict):
            total *= _combinations(value, depth + 1)
        else:
            total *= len(value) * depth
    return total


def _number(value, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid(f"Value of {what} must be numeric")
    if not -NUMBER_LIMIT < value < NUMBER_LIMIT:
        raise _invalid(f"Value of {what} must be between -1.0E9 and 1.0E9")


def _check_numeric(arg) -> None:
    if not isinstance(arg, list) or not arg or len(arg) % 2 or len(arg) > 4:
        raise _invalid("Value of numeric must be an array.")
    ops = arg[::2]
    for op, value in zip(ops, arg[1::2]):
        if op not in ("<", "<=", "=", ">", ">="):
            raise _invalid(f"Unrecognized numeric range operator: {op}")
        _number(value, op)
    if len(arg) == 4:
        if ops[0] not in (">", ">=") or ops[1] not in ("<", "<="):
            raise _invalid("Bad numeric range operator")
        if arg[3] <= arg[1]:
            raise _invalid("Bottom must be less than top")


def _check_string_operand(name: str, arg, allow_ignore_case: bool) -> None:
    if allow_ignore_case and isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
        arg = arg["equals-ignore-case"]
    if not isinstance(arg, str):
        raise _invalid(f"{name} match pattern must be a string")
    if not arg:
        raise _invalid(f"Null {name} not allowed")


def _check_rule(rule) -> None:
    if rule is None or isinstance(rule, (str, bool)):
        return
    if isinstance(rule, (int, float)):
        _number(rule, "a match")
        return
    if not isinstance(rule, dict):
        raise _invalid("Match value must be String, number, true, false, or null")
    if len(rule) != 1:
        raise _invalid("Only one key allowed in match expression")
    (name, arg), = rule.items()
    if name not in KEYWORDS:
        raise _invalid(f"Unrecognized match type {name}")
    if name == "exists" and not isinstance(arg, bool):
        raise _invalid("exists match pattern must be either true or false.")
    if name == "numeric":
        _check_numeric(arg)
    if name in ("prefix", "suffix"):
        _check_string_operand(name, arg, allow_ignore_case=True)
    if name == "equals-ignore-case":
        _check_string_operand(name, arg, allow_ignore_case=False)
    from .events import valid_cidr

    if name == "cidr" and not valid_cidr(arg):
        raise _invalid(f"Malformed CIDR, one '/' required: {arg}")
    if name == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or list(arg)[0] not in ("prefix", "suffix"):
                raise _invalid("Unsupported anything-but pattern")
            (inner, value), = arg.items()
            _check_string_operand(inner, value, allow_ignore_case=False)
        elif isinstance(arg, list):
            if not arg or not (all(isinstance(v, str) for v in arg) or all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in arg)):
                raise _invalid("Inside anything but list, start|null|boolean is not supported.")
        elif arg is None or isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
            raise _invalid("Inside anything but list, start|null|boolean is not supported.")


def validate(policy, scope: str | None) -> None:
    """Raise InvalidParameter for a policy AWS refuses."""
    if not isinstance(policy, dict):
        raise _invalid("Filter policy must be a JSON object")
    scope = scope or "MessageAttributes"

    def walk(node: dict, nested: bool) -> None:
        for key, value in node.items():
            if _is_or(key, value):
                for branch in value:
                    walk(branch, nested)
            elif isinstance(value, dict):
                if scope != "MessageBody":
                    raise _invalid("Filter policy scope MessageAttributes does not support "
                                   "nested filter policy")
                if not value:
                    raise _invalid(f'"{key}" must be an object or an array')
                walk(value, True)
            elif isinstance(value, list):
                if not value:
                    raise _invalid("Empty arrays are not allowed")
                for rule in value:
                    _check_rule(rule)
            else:
                raise _invalid(f'"{key}" must be an object or an array')

    walk(policy, False)
    alternatives = _alternatives(policy)
    if any(len(alt) > MAX_KEYS for alt in alternatives):
        raise _invalid("Filter policy can not have more than 5 keys")
    if sum(_combinations(alt) for alt in alternatives) > MAX_COMBINATIONS:
        raise _invalid("Filter policy is too complex")


def _attributes_event(message_attributes: dict | None) -> dict:
    event = {}
    for name, attribute in (message_attributes or {}).items():
        kind = str(attribute.get("Type") or attribute.get("DataType") or "")
        value = attribute.get("Value", attribute.get("StringValue"))
        if kind.startswith("Binary"):
            continue
        if kind.startswith("Number"):
            try:
                number = float(value)
                value = int(number) if number.is_integer() else number
            except (TypeError, ValueError):
                continue
        elif kind.startswith("String.Array"):
            try:
                value = json.loads(value)
            except (TypeError, ValueError):
                continue
        event[name] = value
    return event


def matches(policy: dict | None, scope: str | None, message_attributes, message) -> bool:
    from moto.events.models import EventPattern

    if not policy:
        return True
    if (scope or "MessageAttributes") == "MessageBody":
        try:
            event = json.loads(message)
        except (TypeError, ValueError):
            return False
        if not isinstance(event, dict):
            return False
    else:
        event = _attributes_event(message_attributes)
    from .events import _flatten

    try:
        return bool(EventPattern(json.dumps(policy), policy)._does_event_match(
            _flatten(json.loads(json.dumps(event))), policy))
    except Exception:  # a shape the matcher cannot compare never matches
        return False


def install() -> None:
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend
    from moto.sns.utils import FilterPolicyMatcher

    def matcher_matches(self, message_attributes, message):
        return matches(self.filter_policy, self.filter_policy_scope, message_attributes,
                       message)

    FilterPolicyMatcher.matches = matcher_matches
    SNSBackend._validate_filter_policy = lambda self, value, scope: validate(value, scope)

    original_set = SNSBackend.set_subscription_attributes

    def set_subscription_attributes(self, arn, name, value):
        if name == "FilterPolicyScope" and value not in SCOPES:
            raise SNSInvalidParameter(
                f"Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value "
                f"[{value}]. Please use either MessageBody or MessageAttributes")
        if name == "FilterPolicy" and value:
            try:
                json.loads(value)
            except (TypeError, ValueError):
                raise _invalid("Filter policy is not valid JSON") from None
        sub = self.subscriptions.get(arn)
        if name == "FilterPolicyScope" and sub is not None and sub._filter_policy:
            validate(sub._filter_policy, value)  # the policy in place must suit the new scope
        original_set(self, arn, name, value)
        if sub is None:
            return
        if name == "FilterPolicy" and not value:
            # An empty policy removes the filter (and it is no longer listed).
            sub.attributes.pop("FilterPolicy", None)
        if name == "FilterPolicyScope" and sub._filter_policy:
            sub._filter_policy_matcher = FilterPolicyMatcher(sub._filter_policy, value)

    SNSBackend.set_subscription_attributes = set_subscription_attributes
