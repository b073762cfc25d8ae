"""Tag what the course creates, and clean it up by that tag.

On the ``aws`` target a forgotten queue or MSK cluster costs real money, so every resource
created through ``edalab.client`` carries the tag ``edalab=course`` and ``edalab cleanup``
finds and deletes them through the Resource Groups Tagging API. The same happens on the local
targets (harmless there), which is how the tests prove the clean-up works.
"""

from __future__ import annotations

TAG_KEY = "edalab"
TAG_VALUE = "course"

# Where each create call takes its tags, and in which shape.
_TAGGED_CREATES = {
    ("sqs", "CreateQueue"): ("tags", "map"),
    ("sns", "CreateTopic"): ("Tags", "list"),
    ("events", "PutRule"): ("Tags", "list"),
    ("events", "CreateEventBus"): ("Tags", "list"),
    ("lambda", "CreateFunction"): ("Tags", "map"),
    ("kafka", "CreateCluster"): ("Tags", "map"),
    ("kafka", "CreateClusterV2"): ("Tags", "map"),
    ("dynamodb", "CreateTable"): ("Tags", "list"),
}


def _event_names():
    for (service, op), (param, shape) in _TAGGED_CREATES.items():
        yield f"provide-client-params.{service}.{op}", param, shape


def register(events) -> None:
    """Make every tagged create call of a session add ``edalab=course`` (unless already set)."""
    for event, param, shape in _event_names():
        def add(params, param=param, shape=shape, **_):
            if shape == "map":
                params.setdefault(param, {}).setdefault(TAG_KEY, TAG_VALUE)
            else:
                tags = params.setdefault(param, [])
                if not any(t.get("Key") == TAG_KEY for t in tags):
                    tags.append({"Key": TAG_KEY, "Value": TAG_VALUE})
        events.register(event, add)


def tagged_resources(account_id: str | None = None) -> list[str]:
    """ARNs of every resource tagged ``edalab`` in the target's region."""
    from .clients import client

    tagging = client("resourcegroupstaggingapi", account_id=account_id)
    arns = []
    for page in tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": TAG_KEY, "Values": [TAG_VALUE]}]):
        arns += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]
    return sorted(arns)


def delete(arn: str, account_id: str | None = None) -> None:
    """Delete one course resource by ARN (what each service needs, e.g. targets before rules)."""
    from .clients import client

    parts = arn.split(":")
    service, region, account, resource = parts[2], parts[3], parts[4], ":".join(parts[5:])
    if service == "sqs":
        sqs = client("sqs", account_id=account_id)
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=resource, QueueOwnerAWSAccountId=account)["QueueUrl"])
    elif service == "sns":
        client("sns", account_id=account_id).delete_topic(TopicArn=arn)
    elif service == "lambda":
        client("lambda", account_id=account_id).delete_function(FunctionName=arn)
    elif service == "events" and resource.startswith("rule/"):
        events = client("events", account_id=account_id)
        names = resource.split("/")[1:]
        bus, name = (names[0], names[1]) if len(names) == 2 else ("default", names[0])
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]]
        if ids:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=ids, Force=True)
        events.delete_rule(Name=name, EventBusName=bus, Force=True)
    elif service == "events" and resource.startswith("event-bus/"):
        client("events", account_id=account_id).delete_event_bus(Name=resource.split("/", 1)[1])
    elif service == "kafka":
        client("kafka", account_id=account_id).delete_cluster(ClusterArn=arn)
    elif service == "dynamodb":
        client("dynamodb", account_id=account_id).delete_table(TableName=resource.split("/", 1)[1])
    else:
        raise ValueError(f"edalab cleanup does not know how to delete {arn}; delete it in the console.")


def cleanup(account_id: str | None = None, yes: bool = False, say=print) -> list[str]:
    """List (and with ``yes`` delete) every course resource; returns the ARNs found."""
    arns = tagged_resources(account_id)
    if not arns:
        say("Nothing tagged edalab=course: nothing to clean up.")
        return arns
    # Rules before the buses that hold them; everything else in any order.
    arns.sort(key=lambda a: ":event-bus/" in a)
    for arn in arns:
        if yes:
            try:
                delete(arn, account_id)
                say(f"  deleted {arn}")
            except Exception as exc:  # keep going: one stuck resource must not hide the others
                say(f"  could not delete {arn}: {exc}")
        else:
            say(f"  {arn}")
    if not yes:
        say(f"{len(arns)} resource(s) tagged edalab=course. Delete them with: edalab cleanup --yes")
    return arns
