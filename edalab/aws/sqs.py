"""SQS as AWS documents it, where moto 5.2.5 differs.

* FIFO deduplication lasts the documented 5-minute interval, whatever happened to the first
  copy (moto only drops a duplicate while the original is still in the queue, so a consumer
  that already deleted it gets the message twice - exactly what a FIFO lab teaches cannot
  happen).
* An empty message body is rejected (MissingParameter), as AWS does.
* A queue name ending in ``.fifo`` needs ``FifoQueue=true`` (InvalidParameterValue).
* A FIFO message that is visible again (its visibility timeout ran out, or was 0) no longer
  holds its message group: moto kept such messages "pending", so after a
  ``VisibilityTimeout=0`` peek the next receive returned only the tail of the group.
* StartMessageMoveTask / ListMessageMoveTasks (dead-letter queue redrive) exist: moto
  answers 500. The move runs inside the request, so a task is COMPLETED (or FAILED) by the
  time StartMessageMoveTask answers; MaxNumberOfMessagesPerSecond is recorded, not applied.
* Sends and receives no longer slow to a crawl on a long queue (see ``_install_cheap_clock``).
"""

from __future__ import annotations

import hashlib
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
        message.__dict__.setdefault("_edalab_source_arn", self.queue_arn)
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


def _install_visible_means_not_in_flight() -> None:
    from moto.sqs.models import SQSBackend

    original_receive = SQSBackend.receive_message

    def receive_message(self, queue_name, *args, **kwargs):
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            # A message visible again is no longer in flight and holds no group. moto kept it
            # "pending" and released such messages one by one inside the receive, blocking
            # the rest of their group behind the first one it handed out.
            # In place (never rebinding the set): DeleteMessage may discard from it meanwhile.
            pending = queue._pending_messages
            for message in [m for m in list(pending) if m.visible]:
                pending.discard(message)
        return original_receive(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message


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


def install() -> None:
    from moto.sqs.exceptions import InvalidParameterValue, MissingParameter
    from moto.sqs.models import SQSBackend

    _install_cheap_clock()
    _install_move_tasks()
    _install_visible_means_not_in_flight()

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
