"""EventBridge as AWS documents it, where moto 5.2.5 differs.

* A DISABLED rule delivers nothing; enabling it resumes delivery (moto only flips the state).
* Schedule rules (``rate(...)``, ``cron(...)``) fire on time from a worker thread, and a rule
  with only a schedule receives no bus events (moto never fires them, and lets them match
  every event on the bus).
* SNS and Lambda targets deliver (moto raises NotImplementedError, and that 500 broke every
  put_events on the bus). One failing target is logged and never stops the others.
* ``Input`` and ``InputPath`` on a target are honoured.
* ``InputTransformer`` fills its template as AWS does (a string placeholder outside quotes
  arrives as a JSON string; moto pastes it bare, fails to parse, and delivers nothing) for
  SQS, SNS and Lambda targets; other targets keep moto's.
* ``TestEventPattern`` answers, with the very matcher the rules use.
* A pattern with wrong syntax is refused with InvalidEventPatternException, as AWS does
  (operand types, empty prefix/suffix, numeric ranges, CIDR, ``**`` wildcards, what
  ``anything-but`` takes); a stored pattern the matcher cannot evaluate never answers 500 on
  PutEvents (the rule is skipped and logged).
* Matching looks inside arrays of objects, and ``exists: true`` does not match an empty array.
* PutEvents fails only the entry naming an unknown bus; PutTargets refuses a sixth target and
  malformed target ids.
"""

from __future__ import annotations

import calendar
import copy
import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from . import worker

log = logging.getLogger(__name__)

# Comparison and matching operators AWS accepts inside a pattern's value arrays.
OPERATORS = {"prefix", "suffix", "anything-but", "numeric", "exists", "cidr",
             "equals-ignore-case", "wildcard"}
NUMERIC_OPS = {"<", "<=", "=", ">=", ">"}

_original_send = None


# ---------------------------------------------------------------- pattern syntax


def valid_cidr(arg) -> bool:
    """An IPv4 or IPv6 network in CIDR notation (EventBridge and SNS filters both take it)."""
    import ipaddress

    try:
        return isinstance(arg, str) and "/" in arg and bool(ipaddress.ip_network(arg, strict=False))
    except ValueError:
        return False

def validate_pattern(pattern, path: str = "") -> None:
    """Raise InvalidEventPatternException for what AWS refuses (unknown match types, leaves that
    are not arrays, empty arrays, malformed numeric ranges)."""
    from moto.events.exceptions import InvalidEventPatternException

    def bad(reason):
        raise InvalidEventPatternException(reason=reason)

    if not isinstance(pattern, dict):
        bad("Filter is not an object")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                bad("$or must be an array of at least two patterns")
            for sub in value:
                validate_pattern(sub, path)
        elif isinstance(value, dict):
            validate_pattern(value, where)
        elif isinstance(value, list):
            if not value:
                bad("Empty arrays are not allowed")
            for item in value:
                if isinstance(item, dict):
                    _validate_matcher(item, where, bad)
                elif isinstance(item, list):
                    bad(f"Match value must be String, number, true, false, or null at {where}")
        else:
            bad(f"'{key}' must be an object or an array")


def _validate_matcher(item: dict, where: str, bad) -> None:
    if len(item) != 1:
        bad(f"Only one match type is allowed in an object at {where}")
    (name, arg), = item.items()
    if name not in OPERATORS:
        bad(f"Unrecognized match type {name}")
    if name == "exists" and not isinstance(arg, bool):
        bad("exists match pattern must be either true or false.")
    if name == "numeric":
        _validate_numeric(arg, bad)
    if name in ("prefix", "suffix"):
        if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            bad(f"{name} match pattern must be a string")
        if not arg:
            bad(f"Null {name} not allowed")
    if name == "equals-ignore-case" and not isinstance(arg, str):
        bad("equals-ignore-case match pattern must be a string")
    if name == "wildcard":
        _validate_wildcard(arg, bad)
    if name == "cidr" and not valid_cidr(arg):
        bad(f"Malformed CIDR, one '/' required: {arg}")
    if name == "anything-but":
        _validate_anything_but(arg, bad)


def _validate_numeric(arg, bad) -> None:
    """"numeric" takes one comparison, or a lower and an upper bound ("=" stands alone)."""
    if not isinstance(arg, list) or not arg or len(arg) % 2 or len(arg) > 4:
        bad("Value of numeric must be an array.")
    lower = upper = None
    for op, num in zip(arg[::2], arg[1::2]):
        if op not in NUMERIC_OPS:
            bad(f"Unrecognized numeric range operator: {op}")
        if isinstance(num, bool) or not isinstance(num, (int, float)):
            bad(f"Value of {op} must be numeric")
        if op == "=" and len(arg) > 2:
            bad("Can't have equals in a range")
        if op in (">", ">="):
            if lower is not None:
                bad("Two lower bounds in a numeric range")
            lower = num
        if op in ("<", "<="):
            if upper is not None:
                bad("Two upper bounds in a numeric range")
            upper = num
    if lower is not None and upper is not None and lower >= upper:
        bad("Bottom must be less than top")


def _validate_wildcard(arg, bad) -> None:
    if not isinstance(arg, str):
        bad("wildcard match pattern must be a string")
    if "**" in arg:
        bad("Consecutive wildcard characters at pos " + str(arg.index("**") + 1))


def _validate_anything_but(arg, bad) -> None:
    """A string, a number, a list of only strings or only numbers, or one of prefix, suffix,
    equals-ignore-case, wildcard on a string (the last two also on a list of strings)."""
    def scalar(value) -> bool:
        return isinstance(value, str) or (isinstance(value, (int, float))
                                          and not isinstance(value, bool))

    if isinstance(arg, dict):
        if len(arg) != 1:
            bad("Only one match type is allowed inside anything-but")
        (name, value), = arg.items()
        if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            bad(f"Unsupported anything-but pattern: {name}")
        values = value if isinstance(value, list) and name in (
            "equals-ignore-case", "wildcard") else [value]
        if not values or not all(isinstance(v, str) for v in values):
            bad(f"Inside anything-but/{name} must be a string")
        if name in ("prefix", "suffix") and not values[0]:
            bad(f"Null {name} not allowed")
        if name == "wildcard":
            for v in values:
                _validate_wildcard(v, bad)
    elif isinstance(arg, list):
        if not arg or not (all(isinstance(v, str) for v in arg)
                           or all(scalar(v) and not isinstance(v, str) for v in arg)):
            bad("Inside anything but list, start|null|boolean is not supported.")
    elif not scalar(arg):
        bad("Inside anything but list, start|null|boolean is not supported.")


def load_pattern(raw: str | None):
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPattern

    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise InvalidEventPatternException(reason="Invalid JSON") from None
        validate_pattern(parsed)
    return EventPattern.load(raw)


def _flatten(node, prefix: str = "", result: dict | None = None) -> dict:
    """Event fields by dotted path, as AWS matches them: an array's members all count ("If the
    value in the event is an array, then the event pattern matches if the intersection of the
    event pattern array and the event array is non-empty"), also the fields of objects inside
    an array; an empty array is a field with no value."""
    if result is None:
        result = {}

    def add(key, value):
        values = value if isinstance(value, list) else [value]
        if key not in result:
            result[key] = value
        else:
            known = result[key] if isinstance(result[key], list) else [result[key]]
            result[key] = known + values

    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and value:
                _flatten(value, path, result)
            elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
                for member in value:
                    if isinstance(member, dict):
                        _flatten(member, path, result)
                    elif isinstance(member, list):
                        _flatten({key: member}, prefix, result)
                    else:
                        add(path, member)
            else:
                add(path, value)
    return result


def _install_matcher_fixes() -> None:
    """moto's matcher stopped at arrays: ``{"items": {"id": [...]}}`` never matched
    ``"items": [{"id": ...}]``, and ``exists: true`` matched an empty array."""
    from moto.events.models import EventPattern

    named = EventPattern._does_item_match_named_filter

    def does_item_match_named_filter(item, pattern):
        if list(pattern) == ["exists"] and isinstance(item, list) and not item:
            return pattern["exists"] is False
        return named(item, pattern)

    EventPattern._flatten_dict = staticmethod(_flatten)
    EventPattern._does_item_match_named_filter = staticmethod(does_item_match_named_filter)


# ---------------------------------------------------------------- delivery

def _iso(ts) -> str:
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(float(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ts


def _full_event(event: dict) -> dict:
    out = copy.deepcopy(event)
    if "time" in out:
        out["time"] = _iso(out["time"])
    out.pop("ingestion-time", None)
    return out


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def _template_values(transformer: dict, event: dict, rule) -> dict:
    """The value of every placeholder an InputTransformer may use, predefined ones included."""
    from jsonpath_ng.ext import parse

    full = _full_event(event)
    values = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        matches = parse(path).find(full)
        values[name] = matches[0].value if matches else None
    ingested = event.get("ingestion-time", event.get("time"))
    values.update({
        "aws.events.rule-arn": getattr(rule, "arn", None),
        "aws.events.rule-name": getattr(rule, "name", None),
        "aws.events.event.ingestion-time": _iso(ingested) if ingested is not None else None,
        "aws.events.event": {k: v for k, v in full.items() if k != "detail"},
        "aws.events.event.json": full})
    return values


def render_input_template(template: str, values: dict) -> str:
    """InputTemplate with its placeholders filled as AWS does.

    In a JSON template a value outside quotes is inserted as JSON (a string arrives quoted,
    numbers and objects as they are) and a value inside quotes becomes part of that string;
    in a plain-text template every value is inserted as text. moto pastes strings unquoted
    and then fails to parse its own output, delivering nothing. Hand-written: a template is
    not JSON until it is filled, so no JSON library can read it; this walks it once, tracking
    whether it is inside a string."""
    is_json = template.lstrip().startswith(("{", "["))
    out: list[str] = []
    in_string = escaped = False
    pos = 0
    while pos < len(template):
        char = template[pos]
        match = _PLACEHOLDER.match(template, pos) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if not is_json:
                out.append(value if isinstance(value, str) else json.dumps(value))
            elif in_string:
                text = value if isinstance(value, str) else json.dumps(value)
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value))
            pos = match.end()
            continue
        if is_json:
            if escaped:
                escaped = False
            elif char == "\\" and in_string:
                escaped = True
            elif char == '"':
                in_string = not in_string
        out.append(char)
        pos += 1
    return "".join(out)


def _input_override(target: dict, event: dict, rule=None) -> str | None:
    """The text a target receives instead of the event, for ``Input`` / ``InputPath`` /
    ``InputTransformer``."""
    transformer = target.get("InputTransformer")
    if transformer and transformer.get("InputTemplate"):
        return render_input_template(transformer["InputTemplate"],
                                     _template_values(transformer, event, rule))
    if target.get("Input") is not None:
        return target["Input"]  # "Valid JSON text passed to the target"
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        matches = parse(target["InputPath"]).find(_full_event(event))
        value = matches[0].value if matches else None
        return json.dumps(value)
    return None


def _deliver(rule, target: dict, event: dict, transform_input: bool) -> None:
    from moto.events.models import EventPattern
    from moto.events.utils import EventTemplateParser
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target["Arn"])
    service = arn.service
    override = None
    if transform_input and (service in ("sqs", "sns", "lambda")
                            or not target.get("InputTransformer")):
        override = _input_override(target, event, rule)
    if override is None and service not in ("sns", "lambda"):
        # moto handles this target (SQS, Logs, archives, buses, API destinations) itself.
        single = copy.copy(rule)
        single.targets = [target]
        single.event_pattern = EventPattern(None, {})
        event = copy.deepcopy(event)
        if transform_input and not target.get("InputTransformer"):
            # moto's default template drops "account"; AWS delivers the event as it is.
            event.pop("ingestion-time", None)
            transform_input = False
        _original_send(single, event, transform_input)
        return
    if override is not None:
        text = override
    elif transform_input and target.get("InputTransformer"):
        shaped = EventTemplateParser.parse(
            input_template=target["InputTransformer"].get("InputTemplate"),
            input_paths_map=target["InputTransformer"].get("InputPathsMap", {}),
            event=event)
        text = shaped if isinstance(shaped, str) else json.dumps(shaped)
    else:
        text = json.dumps(_full_event(event))
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        group = target.get("SqsParameters", {}).get("MessageGroupId")
        sqs_backends[arn.account][arn.region].send_message(
            queue_name=arn.resource_id, message_body=text, group_id=group)
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[arn.account][arn.region].publish(message=text, arn=target["Arn"])
    elif service == "lambda":
        try:
            from edalab.aws.lambda_ import invoke_async
        except ImportError:
            log.warning("rule %s: Lambda target %s skipped: the Lambda extension is not "
                        "installed", rule.name, target["Arn"])
            return
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        invoke_async(arn.account, arn.region, target["Arn"], payload)
    else:
        log.warning("rule %s: Input/InputPath not supported for target %s; skipped",
                    rule.name, target["Arn"])


def _deliver_all(rule, event: dict, transform_input: bool = True) -> None:
    from . import iam

    for target in list(rule.targets):
        if not iam.rule_may_deliver(rule, target):  # no permission on the target
            continue
        try:
            _deliver(rule, target, event, transform_input)
        except Exception:  # AWS retries and drops one target's failure; others still get it
            log.exception("rule %s: delivery to target %s failed", rule.name,
                          target.get("Arn"))


def send_to_targets(self, original_event, transform_input: bool = True) -> None:
    """Rule.send_to_targets as AWS behaves: state, schedule-only rules, every target type."""
    if self.state == "DISABLED":
        return
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return  # a schedule rule is triggered by its schedule, not by events on the bus
    try:
        matched = self.event_pattern.matches_event(original_event)
    except Exception:  # one rule's pattern never breaks PutEvents for the bus
        log.exception("rule %s: pattern could not be evaluated", self.name)
        return
    if not matched:
        return
    _deliver_all(self, original_event, transform_input)


# ---------------------------------------------------------------- schedules

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


def _field(spec: str, low: int, high: int, names: dict | None = None) -> set[int]:
    """Values a cron field allows: ``*``, ``?``, lists, ranges, ``/`` steps, names."""
    out: set[int] = set()
    for part in spec.upper().split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            step = int(step_s)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step != 1 else start
        out.update(range(start, end + 1, step))
    return out


def _value(text: str, names: dict | None) -> int:
    return names[text] if names and text in names else int(text)


def cron_matches(expr: str, at: datetime) -> bool:
    """AWS cron: ``minutes hours day-of-month month day-of-week year`` (day-of-week 1 = SUN),
    plus ``L`` (last day of month) and ``#`` (nth weekday). Hand-written: the cron libraries
    use a different day-of-week numbering and no year field, and this is twenty lines."""
    minute, hour, dom, month, dow, year = expr.split()
    if at.minute not in _field(minute, 0, 59) or at.hour not in _field(hour, 0, 23):
        return False
    if at.month not in _field(month, 1, 12, _MONTHS) or at.year not in _field(year, 1970, 2199):
        return False
    last = calendar.monthrange(at.year, at.month)[1]
    aws_dow = (at.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
    if dom.upper() == "L":
        dom_ok = at.day == last
    else:
        dom_ok = dom == "?" or at.day in _field(dom, 1, 31)
    if "#" in dow:
        day, nth = dow.split("#")
        dow_ok = aws_dow == _value(day.upper(), _DAYS) and (at.day - 1) // 7 + 1 == int(nth)
    elif dow.upper().endswith("L") and dow.upper() != "L":
        dow_ok = aws_dow == _value(dow.upper()[:-1], _DAYS) and at.day + 7 > last
    else:
        dow_ok = dow == "?" or aws_dow in _field(dow, 1, 7, _DAYS)
    return dom_ok and dow_ok


def _scheduled_event(rule, now: float) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": rule.account_id, "time": now,
            "region": rule.region_name, "resources": [rule.arn], "detail": {},
            "ingestion-time": now}


def _due(rule, now: float) -> bool:
    expr = rule.scheduled_expression
    state = rule.__dict__.setdefault("_edalab_schedule", {"expr": None})
    if state["expr"] != expr:  # new or changed rule: (re)start its schedule now
        state.update(expr=expr, start=now, fired=0, last_minute=None)
    rate = _RATE.match(expr)
    if rate:
        period = int(rate.group(1)) * _UNIT[rate.group(2).rstrip("s")]
        # "the schedule starts when you create the rule": first trigger one period later
        due = int((now - state["start"]) // period)
        if due > state["fired"]:
            state["fired"] = due
            return True
        return False
    if expr.startswith("cron(") and expr.endswith(")"):
        at = datetime.fromtimestamp(now, tz=timezone.utc).replace(second=0, microsecond=0)
        if at == state["last_minute"] or at <= datetime.fromtimestamp(
                state["start"], tz=timezone.utc).replace(second=0, microsecond=0):
            return False
        state["last_minute"] = at
        try:
            return cron_matches(expr[5:-1], at)
        except (ValueError, KeyError):
            log.warning("rule %s: cannot read schedule %s", rule.name, expr)
            return False
    return False


def fire_due_schedules(now: float | None = None) -> None:
    from moto.events.models import events_backends

    now = time.time() if now is None else now
    for account_id in list(events_backends.keys()):
        for region in list(events_backends[account_id].keys()):
            backend = events_backends[account_id][region]
            bus = backend.event_buses.get("default")
            for rule in list(bus.rules.values()) if bus else []:
                if not rule.scheduled_expression or rule.state == "DISABLED":
                    continue
                if _due(rule, now):
                    _deliver_all(rule, _scheduled_event(rule, now))


@worker
def schedule_loop() -> None:
    """Fire schedule rules; wakes every second (a minute is the finest AWS schedule)."""
    while True:
        try:
            fire_due_schedules()
        except Exception:
            log.exception("schedule worker")
        time.sleep(1.0 - (time.time() % 1.0))


# ---------------------------------------------------------------- install

MAX_TARGETS = 5  # "Each rule can have up to five (5) targets associated with it at one time."
_TARGET_ID = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")


def _install_target_checks() -> None:
    """PutTargets refuses a sixth target and a target id outside ``[.\-_A-Za-z0-9]{1,64}``
    (moto stored both)."""
    from moto.core.exceptions import JsonRESTError
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    original = EventsBackend.put_targets

    def put_targets(self, name, event_bus_arn, targets):
        for n, target in enumerate(targets, 1):
            if not _TARGET_ID.match(str(target.get("Id", ""))):
                raise ValidationException(
                    f"1 validation error detected: Value '{target.get('Id')}' at "
                    f"'targets.{n}.member.id' failed to satisfy constraint: Member must "
                    "satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
        rule = self.describe_rule(name, event_bus_arn)
        ids = {t["Id"] for t in rule.targets} | {t["Id"] for t in targets}
        if len(ids) > MAX_TARGETS:
            raise JsonRESTError("LimitExceededException",
                                "The requested resource exceeds the maximum number allowed.")
        return original(self, name, event_bus_arn, targets)

    EventsBackend.put_targets = put_targets


def _install_put_events_entry_errors() -> None:
    """An entry naming an event bus that does not exist fails alone ("If the submission was
    successful, the entry has the event ID in it. Otherwise, you can use the error code and
    error message to identify the problem with the entry"): moto raised
    ResourceNotFoundException for the whole request, and the other entries were lost."""
    from moto.events.models import EventsBackend

    original = EventsBackend.put_events

    def put_events(self, events):
        if len(events) > 10:
            return original(self, events)  # AWS's ValidationException for the request
        answers: list = [None] * len(events)
        sent = []
        for i, entry in enumerate(events):
            name = entry.get("EventBusName")
            if name and entry.get("Source") and entry.get("DetailType") and entry.get("Detail"):
                try:
                    self.describe_event_bus(self._normalize_event_bus_arn(name))
                except Exception:
                    answers[i] = {"ErrorCode": "InvalidArgument",
                                  "ErrorMessage": f"Event bus {name} does not exist."}
                    continue
            sent.append(i)
        done = iter(original(self, [events[i] for i in sent]) if sent else [])
        for i in sent:
            answers[i] = next(done)
        return answers

    EventsBackend.put_events = put_events


def install() -> None:
    global _original_send
    from moto.events.models import EventsBackend, Rule
    from moto.events.responses import EventsHandler

    if _original_send is None:
        _original_send = Rule.send_to_targets
    Rule.send_to_targets = send_to_targets
    _install_matcher_fixes()

    original_put_rule = EventsBackend.put_rule

    def put_rule(self, name, *args, **kwargs):
        load_pattern(kwargs.get("event_pattern"))
        return original_put_rule(self, name, *args, **kwargs)

    EventsBackend.put_rule = put_rule
    _install_put_events_entry_errors()
    _install_target_checks()

    def test_event_pattern(self):
        pattern = load_pattern(self._get_param("EventPattern"))
        try:
            event = json.loads(self._get_param("Event") or "")
        except ValueError:
            return self.error("ValidationException", "Parameter Event is not valid: not JSON.")
        if not isinstance(event, dict):
            return self.error("ValidationException", "Parameter Event is not valid.")
        return json.dumps({"Result": bool(pattern.matches_event(event))}), self.response_headers

    EventsHandler.test_event_pattern = test_event_pattern
