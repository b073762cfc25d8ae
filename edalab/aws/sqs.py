"""SQS as AWS documents it, where moto 5.2.5 differs.

* FIFO deduplication lasts the documented 5-minute interval, whatever happened to the first
  copy (moto only drops a duplicate while the original is still in the queue, so a consumer
  that already deleted it gets the message twice - exactly what a FIFO lab teaches cannot
  happen).
* An empty message body is rejected (MissingParameter), as AWS does.
* A queue name ending in ``.fifo`` needs ``FifoQueue=true`` (InvalidParameterValue).
"""

from __future__ import annotations

import hashlib
import threading
import time

DEDUP_INTERVAL_SECONDS = 300  # "the 5-minute deduplication interval"

_lock = threading.Lock()


def _dedup_key(queue, body: str, dedup_id: str | None, group_id: str | None) -> str | None:
    if dedup_id is None and queue.attributes.get("ContentBasedDeduplication") == "true":
        dedup_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if dedup_id is None:
        return None
    if queue.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{group_id}\x00{dedup_id}"
    return dedup_id


def install() -> None:
    from moto.sqs.exceptions import InvalidParameterValue, MissingParameter
    from moto.sqs.models import SQSBackend

    original_send = SQSBackend.send_message
    original_create = SQSBackend.create_queue

    def send_message(self, queue_name, message_body, *args, **kwargs):
        if message_body is None or message_body == "":
            raise MissingParameter("MessageBody")
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            return original_send(self, queue_name, message_body, *args, **kwargs)
        names = ("message_attributes", "delay_seconds", "deduplication_id", "group_id")
        given = dict(zip(names, args))
        given.update(kwargs)
        key = _dedup_key(queue, message_body, given.get("deduplication_id"), given.get("group_id"))
        if key is None:  # moto raises the documented error for the missing id
            return original_send(self, queue_name, message_body, *args, **kwargs)
        now = time.monotonic()
        with _lock:
            window = queue.__dict__.setdefault("_edalab_dedup", {})
            for old in [k for k, entry in window.items() if entry["until"] <= now]:
                del window[old]
            entry = window.get(key)
            first = entry is None
            if first:
                entry = window[key] = {"until": now + DEDUP_INTERVAL_SECONDS, "message": None,
                                       "sent": threading.Event()}
        if not first:
            # "accepted successfully but aren't delivered": answer with the first copy. The
            # lock is not held while sending: moto may run a Lambda mapping inside the send.
            entry["sent"].wait(30)
            if entry["message"] is not None:
                return entry["message"]
        try:
            message = original_send(self, queue_name, message_body, *args, **kwargs)
        except Exception:
            with _lock:
                if window.get(key) is entry:
                    del window[key]
            entry["sent"].set()
            raise
        entry["message"] = message
        entry["sent"].set()
        return message

    def create_queue(self, name, tags=None, **kwargs):
        fifo = str(kwargs.get("FifoQueue", "false")).lower() == "true"
        if name and name.endswith(".fifo") and not fifo:
            # AWS's answer for a FIFO-looking name on a standard queue.
            raise InvalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. "
                "1 to 80 in length")
        return original_create(self, name, tags, **kwargs)

    SQSBackend.send_message = send_message
    SQSBackend.create_queue = create_queue
