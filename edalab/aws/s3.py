"""S3 event notifications with the record AWS documents.

moto builds the notification record (for Lambda, SQS and SNS destinations alike) without
``userIdentity``, ``requestParameters``, ``responseElements``, the bucket's ``ownerIdentity``
and the object's ``sequencer`` / ``versionId``; it encodes the ``/`` of a key as ``%2F``
(AWS form-encodes keys but keeps their slashes: ``in/my photo.jpg`` -> ``in/my+photo.jpg``);
and it gives delete events a size and an ETag (AWS's ObjectRemoved records have neither). "Event message structure" in the S3 user guide
lists the fields; this module adds them where moto builds the record. S3 -> Lambda delivery
itself (asynchronous invocation) is in ``lambda_``.

GetBucketNotificationConfiguration also answers the ``EventBridgeConfiguration`` that
PutBucketNotificationConfiguration stored (moto keeps it but leaves it out of the answer), and
the events go to the default event bus only (moto offered them to every bus's rules), and
an upload without tags no longer also sends "Object Tags Added".
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from urllib.parse import quote_plus

_sequence = itertools.count()


def _sequencer() -> str:
    """Increasing per object event, as AWS's hex ``sequencer`` (compare as equal-length strings)."""
    return f"{time.time_ns():016X}{next(_sequence) % 0x10000:04X}"


def _answer_eventbridge_configuration() -> None:
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self):
        answer = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or getattr(config, "event_bridge", None) is None:
            return answer
        status, headers, body = answer
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if "<EventBridgeConfiguration" in text:
            return answer
        closing = "</NotificationConfiguration>"
        if closing in text:
            text = text.replace(closing, f"<EventBridgeConfiguration/>{closing}", 1)
        else:  # moto's answer was the empty <NotificationConfiguration xmlns="..."/>
            text = re.sub(r"<NotificationConfiguration([^>]*)/>",
                          rf"<NotificationConfiguration\1><EventBridgeConfiguration/>{closing}",
                          text, count=1)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return status, headers, text.encode("utf-8") if isinstance(body, bytes) else text

    S3Response.get_bucket_notification = get_bucket_notification


def _to_default_bus_only() -> None:
    """S3 sends its EventBridge events to the default bus of the bucket's account and Region;
    moto offered them to the rules of every bus."""
    from moto.s3 import notifications

    def send_event_bridge_message(account_id, bucket, event_name, key) -> None:
        import copy

        from moto.core.utils import unix_time
        from moto.events.models import events_backends
        from moto.events.utils import _BASE_EVENT_MESSAGE

        try:
            event = copy.deepcopy(_BASE_EVENT_MESSAGE)
            event.update({
                "detail-type": notifications._detail_type(event_name), "source": "aws.s3",
                "account": account_id, "time": unix_time(), "region": bucket.region_name,
                "resources": [bucket.arn]})
            event["detail"] = {
                "version": "0",
                "bucket": {"name": bucket.name},
                "object": {"key": key.name, "size": key.size,
                           "eTag": key.etag.replace('"', ""), "version-id": key.version_id,
                           "sequencer": _sequencer()},
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": account_id,
                "source-ip-address": "127.0.0.1",
                "reason": event_name.split(":")[1],
            }
            bus = events_backends[account_id][bucket.region_name].event_buses.get("default")
            for rule in list(bus.rules.values()) if bus is not None else []:
                rule.send_to_targets(event, transform_input=False)
        except Exception:  # asynchronous on AWS: the S3 request never fails for it
            pass

    notifications._send_event_bridge_message = send_event_bridge_message


def _no_tag_event_without_tags() -> None:
    """PutObject (and CopyObject, CompleteMultipartUpload) without tags sends "Object Created"
    only: moto stored the empty tag set through put_object_tagging, which also sent an
    ``s3:ObjectTagging:Put`` ("Object Tags Added") event for every upload."""
    from moto.s3.models import S3Backend

    original = S3Backend.put_object_tagging

    def put_object_tagging(self, key, tags):
        if tags:
            return original(self, key, tags)
        self.tagger.delete_all_tags_for_resource(key.arn)
        return key

    S3Backend.put_object_tagging = put_object_tagging


def install() -> None:
    from moto.s3 import notifications

    _answer_eventbridge_configuration()
    _to_default_bus_only()
    _no_tag_event_without_tags()

    build = notifications._get_s3_event

    def s3_event(event_name, bucket, key, notification_id):
        event = build(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            record.setdefault("userIdentity", {"principalId": f"AWS:{bucket.account_id}"})
            record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            record.setdefault("responseElements", {
                "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                "x-amz-id-2": uuid.uuid4().hex + uuid.uuid4().hex})
            record["s3"]["bucket"].setdefault("ownerIdentity", {"principalId": bucket.account_id})
            obj = record["s3"]["object"]
            obj["key"] = quote_plus(key.name, safe="/")
            version = getattr(key, "version_id", None)
            if version and version != "null":
                obj["versionId"] = version
            if record["eventName"].startswith("ObjectRemoved"):
                obj.pop("size", None)
                obj.pop("eTag", None)
            obj["sequencer"] = _sequencer()
        return event

    notifications._get_s3_event = s3_event
