"""SQS as AWS documents it, where moto 5.2.5 differs.

* FIFO deduplication lasts the documented 5-minute interval, whatever happened to the first
  copy (moto only drops a duplicate while the original is still in the queue, so a consumer
  that already deleted it gets the message twice - exactly what a FIFO lab teaches cannot
  happen).
* An empty message body is rejected (MissingParameter), as AWS does.
* A queue name ending in ``.fifo`` needs ``FifoQueue=true`` (InvalidParameterValue).
* FIFO message groups (``_fifo_pick``): a group is held exactly while one of its messages is
  in flight - also for a long poll that was already waiting - and a receive returns a
  group's messages together, in order, before the next group's. A message visible again
  (timeout over, or 0) holds nothing: moto kept such messages "pending", so after a
  ``VisibilityTimeout=0`` peek the next receive returned only the tail of the group.
* FIFO: ``DelaySeconds=0`` on a message keeps the queue's delay; a receipt handle whose
  visibility timeout passed no longer deletes (InvalidParameterValue, "The receipt handle has
  expired"); ``DeduplicationScope=messageGroup`` is honoured, also when set after creation.
* PurgeQueue also forgets the FIFO deduplication window.
* SendMessage and SendMessageBatch entries are refused as on AWS for characters outside SQS's
  set, a size over MaximumMessageSize in bytes (attributes included), empty attribute
  values, malformed deduplication/group ids and a deduplication id on a standard queue.
* A message moved to a dead-letter queue answers ``DeadLetterQueueSourceArn``.
* SendMessageBatch fails only the bad entries (``Failed``) and sends the rest; the delete and
  visibility batches refuse more than ten entries and bad or repeated entry ids.
* StartMessageMoveTask / ListMessageMoveTasks (dead-letter queue redrive) exist: moto
  answers 500. The move runs inside the request, so a task is COMPLETED (or FAILED) by the
  time StartMessageMoveTask answers; MaxNumberOfMessagesPerSecond is recorded, not applied.
* Sends and receives no longer slow to a crawl on a long queue (see ``_install_cheap_clock``).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid

from . import on_reset

DEDUP_INTERVAL_SECONDS = 300  # "the 5-minute deduplication interval"

_lock = threading.Lock()

# Message move tasks, newest last, per source (dead-letter) queue ARN.
_move_tasks: dict[str, list[dict]] = {}


@on_reset
def _forget_move_tasks() -> None:
    _move_tasks.clear()


def _dedup_key(queue, body: str, dedup_id: str | None, group_id: str | None) -> str | None:
    # The plain fields, not ``queue.attributes``: that one counts the whole queue each time.
    content_based = getattr(queue, "content_based_deduplication", False) in (True, "true")
    if dedup_id is None and content_based:
        dedup_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if dedup_id is None:
        return None
    if getattr(queue, "deduplication_scope", "queue") == "messageGroup":
        return f"{group_id}\x00{dedup_id}"
    return dedup_id


def _queue_by_arn(arn: str | None, parameter: str):
    """The moto Queue an SQS ARN names, or ResourceNotFoundException as AWS answers."""
    from moto.sqs.exceptions import SQSException
    from moto.sqs.models import sqs_backends

    parts = (arn or "").split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise SQSException("InvalidParameterValue",
                           f"Value {arn} for parameter {parameter} is invalid: not a queue ARN.")
    _, _, _, region, account, name = parts
    queue = sqs_backends[account][region].queues.get(name) if account in sqs_backends else None
    if queue is None:
        raise SQSException("ResourceNotFoundException",
                           f"The resource that you specified for the {parameter} parameter "
                           "doesn't exist.")
    return queue


def _source_queues_of(dlq) -> list:
    from moto.sqs.models import sqs_backends

    return [q for q in sqs_backends[dlq.account_id][dlq.region].queues.values()
            if q.dead_letter_queue is dlq]


def _move_messages(dlq, destination, sources: list, task: dict) -> None:
    """Take every message out of the dead-letter queue and append it to its destination: the
    named queue, else the queue it was first sent to (recorded by ``add_message``), else the
    only queue that uses this dead-letter queue."""
    by_arn = {q.queue_arn: q for q in sources}
    with dlq._messages_lock:
        taken, dlq._messages = list(dlq._messages), []
        dlq._pending_messages.clear()
    task["ApproximateNumberOfMessagesToMove"] = len(taken)
    stranded = []
    for message in taken:
        target = destination or by_arn.get(message.__dict__.get("_edalab_source_arn"))
        if target is None and len(sources) == 1:
            target = sources[0]
        if target is None:
            stranded.append(message)
            continue
        # A moved message starts afresh: visible now, never received (else it would bounce
        # straight back to the dead-letter queue on its next receive).
        message.approximate_receive_count = 0
        message.approximate_first_receive_timestamp = None
        message.__dict__.pop("_edalab_dlq_source", None)
        message.visible_at = 0.0
        message.delayed_until = 0.0
        target.add_message(message)
        task["ApproximateNumberOfMessagesMoved"] += 1
    if stranded:
        with dlq._messages_lock:
            dlq._messages = stranded + dlq._messages
        task["Status"] = "FAILED"
        task["FailureReason"] = (f"{len(stranded)} messages have no known source queue; "
                                 "give DestinationArn")
    else:
        task["Status"] = "COMPLETED"


def start_message_move_task(source_arn: str, destination_arn: str | None,
                            rate: int | None) -> str:
    from moto.sqs.exceptions import SQSException

    dlq = _queue_by_arn(source_arn, "SourceArn")
    sources = _source_queues_of(dlq)
    if not sources:
        # "limited to supporting message redrive from queues that are configured as
        # dead-letter queues (DLQs) of other Amazon SQS queues only"
        raise SQSException("InvalidParameterValue",
                           "Source queue must be configured as a Dead Letter Queue.")
    destination = _queue_by_arn(destination_arn, "DestinationArn") if destination_arn else None
    task = {"TaskHandle": uuid.uuid4().hex, "Status": "RUNNING", "SourceArn": source_arn,
            "ApproximateNumberOfMessagesMoved": 0, "ApproximateNumberOfMessagesToMove": 0,
            "StartedTimestamp": int(time.time() * 1000)}
    if destination_arn:
        task["DestinationArn"] = destination_arn
    if rate is not None:
        task["MaxNumberOfMessagesPerSecond"] = int(rate)
    with _lock:
        tasks = _move_tasks.setdefault(source_arn, [])
        if any(t["Status"] == "RUNNING" for t in tasks):
            raise SQSException("UnsupportedOperation",
                               "Only one active message movement task is supported per queue.")
        tasks.append(task)
    try:
        _move_messages(dlq, destination, sources, task)
    except Exception as exc:
        task.update(Status="FAILED", FailureReason=str(exc))
        raise
    return task["TaskHandle"]


def list_message_move_tasks(source_arn: str, max_results: int | None) -> list[dict]:
    _queue_by_arn(source_arn, "SourceArn")
    newest_first = list(reversed(_move_tasks.get(source_arn, [])))[: int(max_results or 1)]
    # "TaskHandle [...] Only present for tasks with the status RUNNING"
    return [{k: v for k, v in t.items() if k != "TaskHandle" or t["Status"] == "RUNNING"}
            for t in newest_first]


def _install_move_tasks() -> None:
    from moto.core.responses import ActionResult
    from moto.sqs.models import Queue
    from moto.sqs.responses import SQSResponse

    original_add = Queue.add_message

    def add_message(self, message):
        # The queue a message first lands in is its source; a redrive without
        # DestinationArn sends it back there.
        source = message.__dict__.setdefault("_edalab_source_arn", self.queue_arn)
        if source != self.queue_arn and message.approximate_receive_count > 0:
            # Moved here by maxReceiveCount: ReceiveMessage reports DeadLetterQueueSourceArn.
            message.__dict__["_edalab_dlq_source"] = source
        return original_add(self, message)

    def start(self):
        handle = start_message_move_task(self._get_param("SourceArn"),
                                         self._get_param("DestinationArn"),
                                         self._get_param("MaxNumberOfMessagesPerSecond"))
        return ActionResult({"TaskHandle": handle})

    def listing(self):
        return ActionResult({"Results": list_message_move_tasks(
            self._get_param("SourceArn"), self._get_param("MaxResults"))})

    Queue.add_message = add_message
    SQSResponse.start_message_move_task = start
    SQSResponse.list_message_move_tasks = listing


def _fifo_pick(backend, queue, count: int, visibility_timeout, attribute_names) -> list:
    """One FIFO receive, under the queue's lock: the messages AWS would hand out now.

    A group is held while any of its messages is in flight (received, not yet visible
    again) - read from the messages themselves, not from a set kept by earlier receives.
    The groups come in the order of their oldest message, each with as many of its messages
    as fit, in order, before the next group's."""
    from copy import deepcopy

    from moto.sqs.models import _filter_message_attributes

    now_ms = time.time() * 1000.0
    retention = int(queue.message_retention_period)
    policy = queue.redrive_policy if queue.dead_letter_queue is not None else None
    held: set = set()
    groups: dict = {}
    to_dlq = []
    for message in queue._messages:
        group = message.group_id
        if group in held:
            continue
        if message.visible_at >= now_ms or message.delayed_until > now_ms:
            held.add(group)  # in flight, or not yet delivered: the rest of the group waits
            groups.pop(group, None)
            continue
        if retention + message.sent_timestamp / 1000 <= now_ms / 1000:
            continue
        if policy and message.approximate_receive_count >= policy["maxReceiveCount"]:
            to_dlq.append(message)
            continue
        groups.setdefault(group, []).append(message)
    for message in to_dlq:
        queue._messages.remove(message)
        queue.dead_letter_queue.add_message(message)
    result = []
    for messages in groups.values():
        for message in messages:
            if len(result) >= count:
                return result
            queue.pending_messages.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            copy = deepcopy(message)
            _filter_message_attributes(copy, attribute_names or [])
            result.append(copy)
    return result


def _install_fifo_groups() -> None:
    """FIFO receive, delete and enqueue as AWS documents them (see ``_fifo_pick``).

    moto decided which groups were held once, when a receive started: a long poll already
    waiting handed out the next message of a group another consumer had just received, and
    a visible-again message stayed "pending" until some receive noticed it. It returned
    messages in send order across groups rather than group by group. Its enqueue dropped a
    message whose deduplication id was in the queue whatever the deduplication scope
    (``send_message`` below keeps the 5-minute window, per queue or per message group), and
    its delete accepted a FIFO receipt handle whose visibility timeout had passed."""
    from moto.sqs.exceptions import InvalidParameterValue
    from moto.sqs.models import Queue, SQSBackend

    original_receive = SQSBackend.receive_message
    original_delete = SQSBackend.delete_message
    original_add = Queue.add_message

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                        message_attribute_names=None):
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            return original_receive(self, queue_name, count, wait_seconds_timeout,
                                    visibility_timeout, message_attribute_names)
        deadline = time.monotonic() + float(wait_seconds_timeout or 0)
        lock = queue._messages_lock
        with lock:
            while True:
                got = _fifo_pick(self, queue, int(count), visibility_timeout,
                                 message_attribute_names)
                left = deadline - time.monotonic()
                if got or left <= 0:
                    return got
                # Woken by a send; a delete or a visibility timeout running out is seen
                # within a fifth of a second.
                lock.wait(min(left, 0.2))

    def delete_message(self, queue_name, receipt_handle):
        queue = self.get_queue(queue_name)
        if queue.fifo_queue and receipt_handle not in queue.deleted_messages:
            for message in list(queue._messages):
                if message.had_receipt_handle(receipt_handle):
                    if message.receipt_handle != receipt_handle or message.visible:
                        raise InvalidParameterValue(
                            f"Value {receipt_handle} for parameter ReceiptHandle is invalid. "
                            "Reason: The receipt handle has expired.")
                    break
        return original_delete(self, queue_name, receipt_handle)

    def add_message(self, message):
        if not self.fifo_queue or self.lambda_event_source_mappings:
            return original_add(self, message)
        # Deduplication happened at send time (``send_message``); a moved or redriven
        # message is never a duplicate.
        with self._messages_lock:
            self._messages.append(message)
            self._messages_lock.notify_all()

    SQSBackend.receive_message = receive_message
    SQSBackend.delete_message = delete_message
    Queue.add_message = add_message


def _install_cheap_clock() -> None:
    """Per-message clock reads without moto's datetime arithmetic.

    moto asks every queued message ``visible`` / ``delayed`` on each send and receive, each
    through ``unix_time_millis`` (two naive datetimes and a subtraction), and re-reads all
    queue attributes (three whole-queue counts) for every message it hands out: with 2,000
    messages queued a receive took about a third of a second. ``time.time()`` gives the same
    instant; the retention check needs one attribute, not all of them."""
    from moto.sqs.models import Message, SQSBackend

    Message.visible = property(lambda self: time.time() * 1000.0 > self.visible_at)
    Message.delayed = property(lambda self: time.time() * 1000.0 < self.delayed_until)

    def is_message_valid_based_on_retention_period(self, queue_name, message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > time.time()

    SQSBackend.is_message_valid_based_on_retention_period = (
        is_message_valid_based_on_retention_period)


# "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
_OUTSIDE_ALLOWED = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# "alphanumeric characters (a-z, A-Z, 0-9) and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)"
_ID = re.compile(r"^[A-Za-z0-9!-/:-@\[-`{-~]{1,128}$")


def _message_size(body: str, attributes: dict | None) -> int:
    """Bytes counted against MaximumMessageSize: the body and every attribute's name, type
    and value."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        size += len(name.encode("utf-8")) + len(str(value.get("DataType", "")).encode("utf-8"))
        data = value.get("StringValue", value.get("BinaryValue", b""))
        size += len(data.encode("utf-8") if isinstance(data, str) else data or b"")
    return size


def check_send_request(queue, body, attributes, deduplication_id, group_id) -> None:
    """What SendMessage (and each SendMessageBatch entry) refuses on AWS and moto let pass:
    characters outside SQS's set, a message over the queue's MaximumMessageSize in bytes
    (attributes included), empty attribute values, malformed deduplication or group ids,
    and a deduplication id on a standard queue."""
    from moto.sqs.exceptions import InvalidParameterValue, SQSException

    if body and _OUTSIDE_ALLOWED.search(body):
        raise SQSException("InvalidMessageContents",
                           "Invalid characters found. Valid unicode characters are #x9 | #xA "
                           "| #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
    for name, value in (attributes or {}).items():
        data = value.get("StringValue", value.get("BinaryValue"))
        if data is None or data == "" or data == b"":
            kind = str(value.get("DataType", "String")).split(".")[0]
            raise InvalidParameterValue(f"Message (user) attribute '{name}' must contain a "
                                        f"non-empty value of type '{kind}'.")
    limit = int(queue.maximum_message_size)
    if body is not None and _message_size(body, attributes) > limit:
        raise InvalidParameterValue(f"One or more parameters are invalid. Reason: Message "
                                    f"must be shorter than {limit} bytes.")
    for name, given in (("MessageDeduplicationId", deduplication_id),
                        ("MessageGroupId", group_id)):
        if given is not None and not _ID.match(str(given)):
            raise InvalidParameterValue(
                f"Value {given} for parameter {name} is invalid. Reason: {name} can only "
                "include alphanumeric and punctuation characters. 1 to 128 in length.")
    if deduplication_id is not None and not queue.fifo_queue:
        raise InvalidParameterValue(
            f"Value {deduplication_id} for parameter MessageDeduplicationId is invalid. "
            "Reason: The request include parameter that is not valid for this queue type.")


def _install_dead_letter_source() -> None:
    from moto.sqs.responses import SQSResponse

    original_receive = SQSResponse.receive_message

    def receive_message(self):
        """Adds DeadLetterQueueSourceArn ("the source queue ARN from where the message was
        moved to the DLQ") when asked for; moto never answers it."""
        answer = original_receive(self)
        asked = set(self._get_param("AttributeNames", []) or []) | set(
            self._get_param("MessageSystemAttributeNames", []) or [])
        messages = (getattr(answer, "result", None) or {}).get("Messages") or []
        if not messages or not asked & {"All", "DeadLetterQueueSourceArn"}:
            return answer
        queue = self.sqs_backend.get_queue(self._get_queue_name())
        sources = {m.id: m.__dict__.get("_edalab_dlq_source") for m in list(queue._messages)}
        for msg in messages:
            if sources.get(msg["MessageId"]):
                msg.setdefault("Attributes", {})["DeadLetterQueueSourceArn"] = sources[
                    msg["MessageId"]]
        return answer

    SQSResponse.receive_message = receive_message


def _install_request_checks() -> None:
    from moto.sqs.responses import SQSResponse

    original_send = SQSResponse.send_message

    def send_message(self):
        queue = self.sqs_backend.get_queue(self._get_queue_name())
        check_send_request(queue, self._get_param("MessageBody"),
                           self._get_param("MessageAttributes", {}),
                           self._get_param("MessageDeduplicationId"),
                           self._get_param("MessageGroupId"))
        return original_send(self)

    SQSResponse.send_message = send_message


def _check_batch(ids: list) -> None:
    """The request-level checks of the three batch actions (moto made them for
    SendMessageBatch only): ten entries at most, valid and distinct ids."""
    from moto.sqs.exceptions import (BatchEntryIdsNotDistinct, InvalidBatchEntryId,
                                     TooManyEntriesInBatchRequest)

    if len(ids) > 10:
        raise TooManyEntriesInBatchRequest(len(ids))
    for entry_id in ids:
        if not isinstance(entry_id, str) or not re.match(r"^[\w-]{1,80}$", entry_id):
            raise InvalidBatchEntryId()
    seen = set()
    for entry_id in ids:
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(entry_id)
        seen.add(entry_id)


def _install_batches() -> None:
    """SendMessageBatch sends every valid entry and lists each refused one under ``Failed``
    (moto refused the whole batch for one bad entry); DeleteMessageBatch and
    ChangeMessageVisibilityBatch check the entry count and ids as AWS does."""
    from moto.sqs.exceptions import BatchRequestTooLong, SQSException
    from moto.sqs.models import MAXIMUM_MESSAGE_LENGTH, SQSBackend

    original_delete = SQSBackend.delete_message_batch
    original_visibility = SQSBackend.change_message_visibility_batch

    def send_message_batch(self, queue_name, entries):
        queue = self.get_queue(queue_name)
        _check_batch([entry.get("Id") for entry in entries.values()])
        length = sum(len(entry.get("MessageBody") or "") for entry in entries.values())
        if length > MAXIMUM_MESSAGE_LENGTH:
            raise BatchRequestTooLong(length)
        sent, failed = [], []
        for entry in entries.values():
            try:
                check_send_request(queue, entry.get("MessageBody"),
                                   entry.get("MessageAttributes"),
                                   entry.get("MessageDeduplicationId"),
                                   entry.get("MessageGroupId"))
                message = self.send_message(
                    queue_name, entry.get("MessageBody"),
                    message_attributes=entry.get("MessageAttributes") or {},
                    delay_seconds=entry.get("DelaySeconds"),
                    group_id=entry.get("MessageGroupId"),
                    deduplication_id=entry.get("MessageDeduplicationId"))
            except SQSException as err:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": err.code,
                               "Message": err.message})
                continue
            message.user_id = entry["Id"]
            sent.append(message)
        return sent, failed

    def delete_message_batch(self, queue_name, receipts):
        _check_batch([entry.get("Id") for entry in receipts])
        return original_delete(self, queue_name, receipts)

    def change_message_visibility_batch(self, queue_name, entries):
        _check_batch([entry.get("Id") for entry in entries])
        return original_visibility(self, queue_name, entries)

    SQSBackend.send_message_batch = send_message_batch
    SQSBackend.delete_message_batch = delete_message_batch
    SQSBackend.change_message_visibility_batch = change_message_visibility_batch


def install() -> None:
    from moto.sqs.exceptions import InvalidParameterValue, MissingParameter
    from moto.sqs.models import SQSBackend

    _install_cheap_clock()
    _install_fifo_groups()  # before the move tasks: their add_message wraps this one
    _install_move_tasks()
    _install_batches()
    _install_request_checks()
    _install_dead_letter_source()

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
        if given.get("delay_seconds") is not None and int(given["delay_seconds"]) == 0:
            # "When you set FifoQueue, you can't set DelaySeconds per message": an explicit
            # 0 does not override the queue's delay (moto let it).
            if len(args) > 1:
                args = args[:1] + (None,) + args[2:]
            else:
                kwargs = {**kwargs, "delay_seconds": None}
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

    original_purge = SQSBackend.purge_queue

    def purge_queue(self, queue_name):
        original_purge(self, queue_name)
        # The FIFO deduplication window goes with the messages (moto's own dedup looked at
        # the queue's messages only, so it forgot them too; the 5-minute window above must).
        with _lock:
            self.get_queue(queue_name).__dict__.pop("_edalab_dedup", None)

    SQSBackend.send_message = send_message
    SQSBackend.create_queue = create_queue
    SQSBackend.purge_queue = purge_queue
