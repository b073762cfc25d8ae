"""SNS as AWS documents it, where moto 5.2.5 differs: HTTP/S subscriptions.

* A new HTTP/S subscription gets a ``SubscriptionConfirmation`` POST (``SubscribeURL``,
  ``Token``) and stays PendingConfirmation - receiving nothing - until ConfirmSubscription
  is called with the token or the SubscribeURL is visited.
* Visiting a notification's ``UnsubscribeURL`` unsubscribes the endpoint.
* Deliveries carry the ``x-amz-sns-message-type`` (and message id, topic, subscription)
  headers, and honour RawMessageDelivery.
* Loopback only: an HTTP/S endpoint that is not on this machine is refused at subscribe time
  and never called, so a local target can never send a request off the machine.
* One SQS subscriber that cannot take a message (its queue was deleted) fails its own
  delivery, not the Publish; the message goes to the subscription's dead-letter queue, if any.
* Raw delivery passes Binary attributes on to SQS as bytes.
* Subscription filter policies are checked and matched as AWS does (``sns_filters``).
* An empty message, an unknown subscription protocol and a topic ARN that is not an ARN are
  refused (InvalidParameter; moto answered the last with an HTTP 500).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

from . import on_reset

log = logging.getLogger(__name__)

_tokens: dict[str, tuple[str, str, str]] = {}  # token -> (account, region, subscription arn)
_lock = threading.Lock()
_local = threading.local()
# AWS delivers asynchronously; a slow endpoint must not hold up Publish.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="edalab-sns-http")
HTTP_TIMEOUT_SECONDS = 15
# Subscribe: "Supported protocols include: http, https, email, email-json, sms, sqs,
# application, lambda, firehose"
PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda",
             "firehose")


@on_reset
def _forget_tokens() -> None:
    with _lock:
        _tokens.clear()


def _is_loopback_url(url: str) -> bool:
    from edalab.target import is_loopback

    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and is_loopback(parts.hostname)


def _base_url() -> str:
    host = getattr(_local, "host", None)
    if host:
        return f"http://{host}"
    return f"http://127.0.0.1:{os.environ.get('EDALAB_AWS_PORT', '4566')}"


def _post(url: str, body: str, headers: dict) -> None:
    import requests

    if not _is_loopback_url(url):  # never leaves the machine, whatever got stored
        log.warning("SNS: refused to call %s: not a loopback URL", url)
        return
    try:
        requests.post(url, data=body.encode("utf-8"), timeout=HTTP_TIMEOUT_SECONDS,
                      headers={"Content-Type": "text/plain; charset=UTF-8", **headers})
    except requests.RequestException as exc:
        log.warning("SNS: delivery to %s failed: %s", url, exc)


def _is_true(value) -> bool:
    return str(value).lower() == "true"


def _send_confirmation(sub, token: str) -> None:
    base = _base_url()
    topic_arn = sub.topic.arn
    message_id = str(uuid.uuid4())
    subscribe_url = (f"{base}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn)}"
                     f"&Token={token}")
    body = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (f"You have chosen to subscribe to the topic {topic_arn}.\n"
                    "To confirm the subscription, visit the SubscribeURL included in this "
                    "message."),
        "SubscribeURL": subscribe_url,
        "Timestamp": _now(),
        "SignatureVersion": "2",
        "Signature": "",
        "SigningCertURL": f"{base}/SimpleNotificationService-edalab.pem",
    }
    _pool.submit(_post, sub.endpoint, json.dumps(body), {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    })


def _now() -> str:
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    return iso_8601_datetime_with_milliseconds()


def _deliver_http(sub, message, message_id, subject, message_attributes) -> None:
    if _is_true(sub.attributes.get("PendingConfirmation")):
        return  # AWS sends nothing to an unconfirmed endpoint
    if _is_true(sub.attributes.get("RawMessageDelivery")):
        body = message
    else:
        data = sub.get_post_data(message, message_id, subject,
                                 message_attributes=message_attributes)
        base = sub.__dict__.get("_edalab_base") or _base_url()
        data["UnsubscribeURL"] = (f"{base}/?Action=Unsubscribe&SubscriptionArn="
                                  f"{quote(sub.arn)}")
        body = json.dumps(data)
    _pool.submit(_post, sub.endpoint, body, {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": sub.topic.arn,
        "x-amz-sns-subscription-arn": sub.arn,
    })


def dead_letter(sub, message, message_id, subject, message_attributes, group_id,
                 deduplication_id, message_structure) -> None:
    """Hand an undeliverable message to the subscription's dead-letter queue, if it has one:
    "Messages that can't be delivered due to client errors or server errors are held in the
    dead-letter queue". Also for a delivery the queue's policy refuses (``iam``)."""
    from moto.sqs.models import sqs_backends

    try:
        policy = json.loads(sub.attributes.get("RedrivePolicy") or "{}")
    except ValueError:
        return
    target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    parts = (target or "").split(":")
    if len(parts) != 6:
        return
    if sub._filter_policy_matcher is not None and not sub._filter_policy_matcher.matches(
            message_attributes, message):
        return
    if message_structure == "json":
        message = sub._parse_message_structure(message, sub.protocol)
    body = message if _is_true(sub.attributes.get("RawMessageDelivery")) else json.dumps(
        sub.get_post_data(message, message_id, subject, message_attributes=message_attributes))
    try:
        backend = sqs_backends[parts[4]][parts[3]]
        fifo = {"deduplication_id": deduplication_id or message_id, "group_id": group_id}
        backend.send_message(parts[5], body,
                             **(fifo if backend.get_queue(parts[5]).fifo_queue else {}))
    except Exception as exc:
        log.warning("SNS: dead-letter queue %s refused %s: %s", target, message_id, exc)


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend, Subscription
    from moto.sns.responses import SNSResponse

    from . import sns_filters

    sns_filters.install()
    original_subscribe = SNSBackend.subscribe
    original_publish = Subscription.publish
    original_subscribe_handler = SNSResponse.subscribe

    def subscribe(self, topic_arn, endpoint, protocol):
        if protocol not in PROTOCOLS:
            raise SNSInvalidParameter(
                f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")
        if protocol not in ("http", "https"):
            return original_subscribe(self, topic_arn, endpoint, protocol)
        if not _is_loopback_url(endpoint or ""):
            raise SNSInvalidParameter(
                f"Invalid parameter: Endpoint Reason: {endpoint!r} is not on this machine; "
                "the local emulator only delivers to loopback URLs such as "
                "http://127.0.0.1:8000/hook")
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        sub = original_subscribe(self, topic_arn, endpoint, protocol)
        if existing is None:
            sub.__dict__["_edalab_base"] = _base_url()  # where the emulator was reached
            sub.attributes["PendingConfirmation"] = "true"
            sub.attributes["ConfirmationWasAuthenticated"] = "false"
            token = secrets.token_hex(64)
            with _lock:
                _tokens[token] = (self.account_id, self.region_name, sub.arn)
            _send_confirmation(sub, token)
        return sub

    def publish(self, message, message_id, subject=None, message_attributes=None,
                group_id=None, deduplication_id=None, message_structure=None):
        if (self.protocol == "sqs" and self.topic.fifo_topic and not deduplication_id
                and _is_true(self.topic.content_based_deduplication)):
            # The topic's content-based deduplication id travels with the message to the
            # FIFO queue (moto drops it, and a queue without its own setting refuses it).
            deduplication_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
        if self.protocol == "sqs":
            if message_attributes and _is_true(self.attributes.get("RawMessageDelivery")):
                # Raw delivery passes Binary attributes on as SQS Binary attributes: bytes
                # (moto passed SNS's base64 text, and every later receive asking for the
                # attributes failed with a 500).
                message_attributes = {
                    name: ({**value, "Value": base64.b64decode(value["Value"])}
                           if str(value.get("Type", "")).startswith("Binary")
                           and isinstance(value.get("Value"), str) else value)
                    for name, value in message_attributes.items()}
            try:
                return original_publish(self, message, message_id, subject=subject,
                                        message_attributes=message_attributes,
                                        group_id=group_id, deduplication_id=deduplication_id,
                                        message_structure=message_structure)
            except Exception as exc:
                # One subscriber that cannot take the message (its queue was deleted) fails
                # its own delivery, not the Publish: moto's error stopped the whole topic.
                log.warning("SNS: delivery of %s to %s failed: %s", message_id, self.endpoint,
                            exc)
                dead_letter(self, message, message_id, subject, message_attributes,
                             group_id, deduplication_id, message_structure)
                return None
        if self.protocol not in ("http", "https"):
            return original_publish(self, message, message_id, subject=subject,
                                    message_attributes=message_attributes, group_id=group_id,
                                    deduplication_id=deduplication_id,
                                    message_structure=message_structure)
        if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
                message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        _deliver_http(self, message, message_id, subject, message_attributes)

    def subscribe_handler(self):
        _local.host = self.headers.get("Host")
        try:
            result = original_subscribe_handler(self)
        finally:
            _local.host = None
        protocol = self._get_param("Protocol")
        if protocol in ("http", "https") and not _is_true(self._get_param("ReturnSubscriptionArn")):
            sub = self.backend._find_subscription(self._get_param("TopicArn"),
                                                  self._get_param("Endpoint"), protocol)
            if sub is not None and _is_true(sub.attributes.get("PendingConfirmation")):
                from moto.core.responses import ActionResult

                return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    def confirm_subscription(self):
        from moto.core.responses import ActionResult
        from moto.sns.models import sns_backends

        token = self._get_param("Token") or ""
        with _lock:
            found = _tokens.get(token)
        if found is None:
            raise SNSInvalidParameter("Invalid token")
        account, region, arn = found
        sub = sns_backends[account][region].subscriptions.get(arn)
        if sub is None:
            raise SNSInvalidParameter("Invalid token")
        sub.attributes["PendingConfirmation"] = "false"
        sub.attributes["ConfirmationWasAuthenticated"] = "true"
        return ActionResult({"SubscriptionArn": arn})

    def unsubscribe_handler(self):
        # Unsigned (UnsubscribeURL) requests carry no account: the ARN names it.
        from moto.core.responses import EmptyResult
        from moto.sns.models import sns_backends

        arn = self._get_param("SubscriptionArn") or ""
        parts = arn.split(":")
        backend = (sns_backends[parts[4]][parts[3]] if len(parts) > 5 and parts[4].isdigit()
                   else self.backend)
        backend.unsubscribe(arn)
        return EmptyResult()

    original_infer = DomainDispatcherApplication.infer_service_region_host

    def infer_service_region_host(self, environ, path):
        # SubscribeURL and UnsubscribeURL are unsigned GETs (a browser or curl visits them):
        # route them to SNS.
        query = environ.get("QUERY_STRING", "")
        if not environ.get("HTTP_AUTHORIZATION") and (
                "Action=ConfirmSubscription" in query or "Action=Unsubscribe" in query):
            region = "us-east-1"
            for part in query.split("&"):
                if part.startswith(("TopicArn=", "SubscriptionArn=")):
                    bits = part.split("%3A") if "%3A" in part else part.split(":")
                    if len(bits) > 3:
                        region = bits[3]
            return f"sns.{region}.amazonaws.com"
        return original_infer(self, environ, path)

    # ListSubscriptions(ByTopic) answers "PendingConfirmation" in place of the ARN until the
    # endpoint confirms (moto's serializer reads `subscription_arn` before `arn`).
    Subscription.subscription_arn = property(
        lambda sub: "PendingConfirmation" if _is_true(sub.attributes.get("PendingConfirmation"))
        else sub.arn)
    original_get_topic = SNSBackend.get_topic

    def get_topic(self, arn):
        parts = str(arn or "").split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[5]:
            # AWS: InvalidParameter for an ARN that is not one (moto: an HTTP 500).
            raise SNSInvalidParameter("Invalid parameter: TopicArn")
        return original_get_topic(self, arn)

    SNSBackend.get_topic = get_topic
    original_backend_publish = SNSBackend.publish

    def backend_publish(self, message, *args, **kwargs):
        if message is None or message == "":
            raise SNSInvalidParameter("Invalid parameter: Empty message")
        return original_backend_publish(self, message, *args, **kwargs)

    SNSBackend.subscribe = subscribe
    SNSBackend.publish = backend_publish
    Subscription.publish = publish
    SNSResponse.subscribe = subscribe_handler
    SNSResponse.confirm_subscription = confirm_subscription
    SNSResponse.unsubscribe = unsubscribe_handler
    DomainDispatcherApplication.infer_service_region_host = infer_service_region_host
