"""Lambda on the embedded stack: moto's Lambda API, with handlers that really run.

moto stores functions, versions, permissions and event source mappings; without Docker it
runs nothing (its invoke answers ``error running docker``). Here:

* ``Invoke`` runs the handler in a subprocess (``edalab.lambda_runtime``): RequestResponse
  returns the handler's result, or AWS's error payload with ``X-Amz-Function-Error: Unhandled``;
  ``LogType=Tail`` returns the last 4 KB of the log; ``Event`` is queued and retried twice on
  error (AWS's asynchronous invocation, also behind SNS, S3 and EventBridge); ``DryRun`` only
  validates. Logs land in CloudWatch Logs group ``/aws/lambda/<name>``.
* SQS event source mappings are real pollers (moto only invoked at send time, one message at
  a time): BatchSize, MaximumBatchingWindowInSeconds, delete on success, messages back after
  the visibility timeout on failure (so maxReceiveCount moves them to the DLQ),
  ``ReportBatchItemFailures``, FIFO order per message group, Enabled=False, delete,
  ``FilterCriteria`` (checked at create/update; a message no filter matches is deleted
  unseen). CreateEventSourceMapping answers State "Creating", as AWS does.
* ``DeadLetterConfig`` is kept, answered, and receives an asynchronous event whose retries
  are exhausted (moto dropped it).
* SNS ``lambda`` subscriptions and S3 ``LambdaFunctionConfigurations`` invoke the function
  asynchronously with the event shapes AWS documents.
* ``invoke_async()`` is the entry point for other extensions (EventBridge Lambda targets).

Emulator-only knob: the asynchronous retry delays are AWS's (1 minute, then 2 minutes) unless
the function has the tag ``edalab:async-retry-delays`` (seconds, e.g. ``"1,2"``); tests and
impatient labs set it, real AWS ignores it.
"""

from __future__ import annotations

import atexit
import base64
import heapq
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import iam, on_reset, worker

log = logging.getLogger("edalab.aws.lambda")

MAX_SYNC_REQUEST = 6 * 1024 * 1024        # 6,291,456 bytes: Invoke (RequestResponse)
MAX_ASYNC_REQUEST = 1024 * 1024           # 1 MB: Invoke (Event)
MAX_INVOKE_ASYNC_API = 256 * 1024         # the deprecated InvokeAsync API: 256 KB
MAX_RESPONSE = 6291556                    # AWS's figure in Function.ResponseSizeTooLarge
DEFAULT_RETRY_DELAYS = (60.0, 120.0)      # s: "one minute ... two minutes" between attempts
DEFAULT_MAX_EVENT_AGE = 6 * 3600          # s: MaximumEventAgeInSeconds default
RETRY_TAG = "edalab:async-retry-delays"
SQS_DEFAULT_CONCURRENCY = 5               # pollers start with five concurrent batches on AWS

_pool = None
_pool_lock = threading.Lock()


# -- errors the API returns ----------------------------------------------------------------
def _client_error(code: str, message: str, status: int = 400):
    from moto.awslambda.exceptions import LambdaClientError

    err = LambdaClientError(code, message)
    err.code = status
    return err


# -- the runtime -----------------------------------------------------------------------------
def _runtime_root() -> Path:
    home = os.environ.get("EDALAB_HOME")
    if home:
        return Path(home) / "lambda"
    return Path(tempfile.gettempdir()) / f"edalab-lambda-{os.getpid()}"


def _endpoint() -> str:
    """The emulator's own URL, for the handlers' boto3 (AWS_ENDPOINT_URL)."""
    port = os.environ.get("EDALAB_AWS_PORT")
    if not port and "--port" in sys.argv:
        port = sys.argv[sys.argv.index("--port") + 1]
    return f"http://127.0.0.1:{port or 4566}"


def pool():
    """The process-wide pool of execution environments (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            from edalab.lambda_runtime import Pool

            root = _runtime_root()
            shutil.rmtree(root, ignore_errors=True)  # environments of a previous emulator run
            _pool = Pool(root, _write_logs, _endpoint)
            atexit.register(_pool.shutdown)  # environments run in their own sessions
        return _pool


def _write_logs(spec, stream: str, events: list[dict]) -> None:
    """CloudWatch Logs, in-process: group /aws/lambda/<name>, one stream per environment."""
    from moto.logs.models import logs_backends

    backend = logs_backends[spec.account_id][spec.region]
    backend.ensure_log_group(spec.log_group)
    if stream not in backend.groups[spec.log_group].streams:
        backend.create_log_stream(spec.log_group, stream)
    backend.put_log_events(spec.log_group, stream, events)


def spec_of(fn):
    """A ``FunctionSpec`` for one of moto's LambdaFunction objects (a version or $LATEST)."""
    from edalab.lambda_runtime import FunctionSpec

    reserved = fn.reserved_concurrency
    return FunctionSpec(
        account_id=fn.account_id, region=fn.region, function_name=fn.function_name,
        version=str(fn.version), function_arn=fn.function_arn, handler=fn.handler or "",
        runtime=fn.run_time or "", timeout=int(fn.timeout), memory_size=int(fn.memory_size),
        environment=tuple(sorted((fn.environment_vars or {}).items())),
        code_sha=fn.code_sha_256, code_bytes=fn.code_bytes,
        reserved_concurrency=None if reserved in (None, "") else int(reserved),
        session_token=iam.session_token(fn.role or "", fn.function_name),
    )


def _require_python(fn) -> None:
    if not (fn.run_time or "").startswith("python") or getattr(fn, "package_type", "Zip") != "Zip":
        raise _client_error(
            "InvalidRuntimeException",
            f"The embedded stack runs Python zip functions only; {fn.function_name} has "
            f"runtime {fn.run_time or fn.package_type!r}. Use a python3.x runtime (or the "
            "compose / aws target for other runtimes).", 502)


def run(fn, payload: str, request_id: str | None = None, invoked_arn: str | None = None,
        client_context: dict | None = None, wait: bool = True):
    """Invoke moto's function ``fn`` synchronously; returns a ``Result``."""
    _require_python(fn)
    return pool().invoke(spec_of(fn), payload, request_id=request_id, invoked_arn=invoked_arn,
                         client_context=client_context, wait=wait)


# -- Invoke ---------------------------------------------------------------------------------
def _header(headers, name: str):
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = {k.lower(): v for k, v in headers.items()}
        value = lowered.get(name.lower())
    return value


def _invoke(self, body, request_headers, response_headers, invoked_arn: str | None = None):
    """Replacement for moto's ``LambdaFunction.invoke``: AWS's Invoke on function ``self``."""
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    payload = body or "{}"
    size = len(payload.encode("utf-8"))
    limit = MAX_ASYNC_REQUEST if invocation_type == "Event" else MAX_SYNC_REQUEST
    if size > limit:
        raise _client_error(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation "
            f"(this payload has {size} bytes).", 413)
    try:
        json.loads(payload)
    except ValueError as exc:
        raise _client_error("InvalidRequestContentException",
                            f"Could not parse request body into json: {exc}") from None
    _require_python(self)
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        _async.submit(self.account_id, self.region, invoked_arn or self.function_arn, payload)
        return b""
    client_context = None
    raw_context = _header(request_headers, "X-Amz-Client-Context")
    if raw_context:
        try:
            client_context = json.loads(base64.b64decode(raw_context))
        except ValueError:
            raise _client_error("InvalidRequestContentException",
                                "Client context must be a valid Base64-encoded JSON object.") from None
    from edalab.lambda_runtime import Throttled

    try:
        result = run(self, payload, invoked_arn=invoked_arn, client_context=client_context,
                     wait=self.reserved_concurrency in (None, ""))
    except Throttled:
        raise _client_error("TooManyRequestsException", "Rate Exceeded.", 429) from None
    body = result.payload
    if len(body) > MAX_RESPONSE:
        body = json.dumps({
            "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum allowed "
                            f"payload size ({MAX_RESPONSE} bytes).",
            "errorType": "Function.ResponseSizeTooLarge"}).encode()
        response_headers["x-amz-function-error"] = "Unhandled"
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-log-result"] = result.log_result
    response_headers["x-amz-executed-version"] = str(self.version)
    return body


def _invoke_api(self):
    """Replacement for moto's Invoke response: moto looked for a lower-case ``qualifier`` (and
    in the payload), so ``Qualifier=1`` ran $LATEST; the context's invoked_function_arn is the
    ARN the caller used (qualified when a version or alias was given)."""
    from urllib.parse import unquote

    headers: dict = {}
    name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = (self.querystring.get("Qualifier") or [None])[0]
    fn = self.backend.get_function(name, qualifier)
    if ":" in name.split(":function:")[-1] and not qualifier:  # "name:alias" or a qualified ARN
        qualifier = name.rsplit(":", 1)[-1]
    invoked = f"{_unqualified(fn.function_arn)}:{qualifier}" if qualifier else fn.function_arn
    payload = _invoke(fn, self.body, self.headers, headers, invoked_arn=invoked)
    invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    headers["content-type"] = "application/json"
    if invocation_type == "Event":
        return 202, {**headers, "status": "202"}, payload
    if invocation_type == "DryRun":
        return 204, {**headers, "status": "204"}, payload
    if self.headers.get("X-Amz-Log-Type") != "Tail":
        headers.pop("x-amz-log-result", None)
    return 200, headers, payload


# -- asynchronous invocation -----------------------------------------------------------------
class _AsyncInvoker:
    """AWS's internal queue for InvocationType=Event: run, retry on error, then destinations.

    "If the function returns an error, by default Lambda attempts to run it two more times,
    with a one-minute wait between the first two attempts, and two minutes between the second
    and third attempts." MaximumRetryAttempts / MaximumEventAgeInSeconds of the function's
    event invoke config apply; OnSuccess / OnFailure destinations (SQS, SNS, Lambda,
    EventBridge) receive AWS's invocation record.
    """

    def __init__(self, threads: int = 16):
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="edalab-lambda-async")
        self._timers: list = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._generation = 0
        self._thread = None

    def submit(self, account_id: str, region: str, function_arn: str, payload: str) -> str:
        request_id = str(uuid.uuid4())
        job = {"account": account_id, "region": region, "arn": function_arn, "payload": payload,
               "request_id": request_id, "created": time.time(), "attempt": 0,
               "generation": self._generation}
        self._executor.submit(self._attempt, job)
        return request_id

    def _schedule(self, delay: float, job: dict) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._timer_loop, daemon=True,
                                                name="edalab-lambda-retries")
                self._thread.start()
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify()

    def _timer_loop(self) -> None:
        while True:
            with self._cond:
                while not self._timers or self._timers[0][0] > time.monotonic():
                    self._cond.wait(None if not self._timers else self._timers[0][0] - time.monotonic())
                _, _, job = heapq.heappop(self._timers)
            self._executor.submit(self._attempt, job)

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._timers.clear()

    def _attempt(self, job: dict) -> None:
        if job["generation"] != self._generation:
            return
        try:
            fn = _function(job["account"], job["region"], job["arn"])
        except Exception:
            log.warning("async invoke of %s dropped: no such function", job["arn"])
            return
        config = _event_invoke_config(fn)
        max_retries = int(config.get("MaximumRetryAttempts", 2))
        max_age = int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE))
        from edalab.lambda_runtime import Throttled

        try:
            result = run(fn, job["payload"], request_id=job["request_id"], invoked_arn=job["arn"])
        except Throttled:
            # "For throttling errors (429) and system errors (500-series), Lambda returns the
            # event to the queue and attempts to run the function again for up to 6 hours."
            if time.time() - job["created"] < max_age:
                self._schedule(1.0, job)
            return
        except Exception:
            log.exception("async invoke of %s failed to run", job["arn"])
            return
        job["attempt"] += 1
        if not result.error_type:
            self._destination(fn, config, "OnSuccess", job, result, "Success")
            return
        delays = _retry_delays(fn)
        retry = job["attempt"] - 1
        if retry < max_retries:
            delay = delays[min(retry, len(delays) - 1)]
            if time.time() + delay - job["created"] <= max_age:
                self._schedule(delay, job)
                return
            condition = "EventAgeExceeded"
        else:
            condition = "RetriesExhausted"
        self._destination(fn, config, "OnFailure", job, result, condition)
        _send_to_dead_letter_queue(fn, job, result)

    def _destination(self, fn, config: dict, kind: str, job: dict, result, condition: str) -> None:
        from edalab.lambda_runtime import iso_now

        target = ((config.get("DestinationConfig") or {}).get(kind) or {}).get("Destination")
        if not target:
            return
        try:
            response_payload = json.loads(result.payload or b"null")
        except ValueError:
            response_payload = result.payload.decode("utf-8", "replace")
        record = {
            "version": "1.0",
            "timestamp": iso_now(),
            "requestContext": {"requestId": job["request_id"],
                               "functionArn": f"{_unqualified(fn.function_arn)}:{fn.version}",
                               "condition": condition, "approximateInvokeCount": job["attempt"]},
            "requestPayload": json.loads(job["payload"]),
            "responseContext": {"statusCode": 200, "executedVersion": str(fn.version)},
            "responsePayload": response_payload,
        }
        if result.function_error:
            record["responseContext"]["functionError"] = result.function_error
        if not iam.destination_allowed(fn.role or "", target):  # the execution role sends it
            return
        try:
            _deliver(fn.account_id, target, record, kind)
        except Exception:
            log.exception("delivery of %s to %s failed", kind, target)


def _send_to_dead_letter_queue(fn, job: dict, result) -> None:
    """DeadLetterConfig: "the queue or topic where Lambda sends asynchronous events when they
    fail processing" - the event as it was, with RequestID, ErrorCode and ErrorMessage
    attributes."""
    target = fn.__dict__.get("_edalab_dead_letter")
    if not target or not iam.destination_allowed(fn.role or "", target):  # the role sends it
        return
    try:
        error = json.loads(result.payload or b"{}")
        message = str(error.get("errorMessage", ""))[:1024] if isinstance(error, dict) else ""
    except ValueError:
        message = ""
    parts = target.split(":")
    try:
        if parts[2] == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[parts[4]][parts[3]].send_message(parts[5], job["payload"], {
                "RequestID": {"DataType": "String", "StringValue": job["request_id"]},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message or "Unhandled"}})
        elif parts[2] == "sns":
            from moto.sns.models import sns_backends

            sns_backends[parts[4]][parts[3]].publish(job["payload"], arn=target)
    except Exception:
        log.exception("dead-letter delivery of %s to %s failed", job["request_id"], target)


_async = _AsyncInvoker()


def invoke_async(account_id: str, region: str, function_arn: str, event: dict) -> None:
    """Invoke a function with InvocationType=Event on behalf of an AWS service.

    For EventBridge targets, SNS subscriptions and S3 notifications: the event is queued and
    the call returns at once; errors are retried as AWS documents for asynchronous invocation.
    A function that does not exist (any more) is skipped, with a warning in the emulator log.
    """
    _async.submit(account_id, region, function_arn, json.dumps(event))


def _function(account_id: str, region: str, name_or_arn: str):
    from moto.awslambda.utils import get_backend

    qualifier = None
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) == 8:
        name_or_arn, qualifier = ":".join(parts[:7]), parts[7]
    return get_backend(account_id, region).get_function(name_or_arn, qualifier)


def _event_invoke_config(fn) -> dict:
    configs = getattr(fn, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}


def _retry_delays(fn) -> tuple[float, ...]:
    raw = (fn.tags or {}).get(RETRY_TAG)
    if raw:
        try:
            delays = tuple(float(x) for x in raw.split(","))
            if delays and all(d >= 0 for d in delays):
                return delays
        except ValueError:
            pass
        log.warning("tag %s=%r on %s is not a list of seconds; using AWS's delays",
                    RETRY_TAG, raw, fn.function_name)
    return DEFAULT_RETRY_DELAYS


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7])


def _deliver(account_id: str, target_arn: str, record: dict, kind: str) -> None:
    """Send an invocation record to a destination (SQS queue, SNS topic, function, bus)."""
    parts = target_arn.split(":")
    service, region = parts[2], parts[3]
    body = json.dumps(record)
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account_id][region].send_message(parts[5], body)
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account_id][region].publish(body, arn=target_arn)
    elif service == "lambda":
        invoke_async(account_id, region, target_arn, record)
    elif service == "events":
        from moto.events.models import events_backends

        detail_type = ("Lambda Function Invocation Result - Success" if kind == "OnSuccess"
                       else "Lambda Function Invocation Result - Failure")
        events_backends[account_id][region].put_events([{
            "Source": "lambda", "DetailType": detail_type, "Detail": body,
            "EventBusName": target_arn, "Resources": [record["requestContext"]["functionArn"]]}])
    else:
        log.warning("destination %s is not supported by the embedded stack", target_arn)


# -- SQS event source mappings ---------------------------------------------------------------
class _SqsPoller:
    """Lambda's poller for one SQS event source mapping.

    "Lambda polls the queue and invokes your function synchronously with an event that
    contains queue messages. Lambda reads messages in batches and invokes your function once
    for each batch. When your function successfully processes a batch, Lambda deletes its
    messages from the queue." On error nothing is deleted: the messages reappear after the
    queue's visibility timeout, and the queue's redrive policy moves them to its DLQ.
    """

    def __init__(self, lambda_backend, esm, executor: ThreadPoolExecutor):
        self.backend = lambda_backend
        self.esm = esm
        self.executor = executor
        parts = esm.event_source_arn.split(":")
        self.region, self.account_id, self.queue_name = parts[3], parts[4], parts[5]
        self.fifo = self.queue_name.endswith(".fifo")
        self.inflight = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name=f"edalab-esm-{esm.uuid[:8]}")

    def start(self) -> "_SqsPoller":
        self.thread.start()
        return self

    def active(self) -> bool:
        return self.backend._event_source_mappings.get(self.esm.uuid) is self.esm

    def _sqs(self):
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account_id][self.region]

    def _concurrency(self) -> int:
        scaling = self.esm.scaling_config or {}
        return int(scaling.get("MaximumConcurrency") or SQS_DEFAULT_CONCURRENCY)

    def _loop(self) -> None:
        while self.active():
            try:
                if not self.esm.enabled:
                    time.sleep(0.1)
                    continue
                with self.cond:
                    while self.inflight >= self._concurrency():
                        self.cond.wait(0.5)
                batch = self._collect()
                if batch:
                    with self.cond:
                        self.inflight += 1
                    self.executor.submit(self._process, batch)
            except Exception as exc:
                from moto.sqs.exceptions import QueueDoesNotExist

                if not isinstance(exc, QueueDoesNotExist):
                    log.exception("SQS poller %s", self.esm.uuid)
                time.sleep(1.0)

    def _receive(self, queue, count: int) -> list:
        return self._sqs().receive_message(
            self.queue_name, count, 0, int(queue.visibility_timeout or 30),
            message_attribute_names=["All"])

    def _wait(self, queue, timeout: float) -> None:
        """Sleep until a message may be receivable (woken by SendMessage)."""
        lock = queue._messages_lock
        with lock:
            if queue.messages:  # visible but not receivable (e.g. FIFO group in flight)
                lock.wait(min(timeout, 0.05))
            else:
                lock.wait(timeout)

    def _collect(self) -> list:
        queue = self._sqs().get_queue(self.queue_name)
        batch_size = int(self.esm.batch_size)
        window = float(self.esm.max_batch_window or 0)
        batch = self._receive(queue, min(10, batch_size))
        if not batch:
            self._wait(queue, 0.2)
            return []
        deadline = time.monotonic() + window
        size = sum(len(m.body.encode()) for m in batch)
        while len(batch) < batch_size and size < MAX_SYNC_REQUEST and time.monotonic() < deadline:
            more = self._receive(queue, min(10, batch_size - len(batch)))
            if more:
                batch += more
                size += sum(len(m.body.encode()) for m in more)
            else:
                self._wait(queue, max(0.0, min(0.2, deadline - time.monotonic())))
        while size > MAX_SYNC_REQUEST and len(batch) > 1:  # over 6 MB: put the last one back
            extra = batch.pop()
            size -= len(extra.body.encode())
            self._sqs().change_message_visibility(self.queue_name, extra.receipt_handle, 0)
        return batch

    def _record(self, msg) -> dict:
        attributes = {
            "ApproximateReceiveCount": str(msg.approximate_receive_count),
            "SentTimestamp": str(msg.sent_timestamp),
            "SenderId": msg.sender_id,
            "ApproximateFirstReceiveTimestamp": str(msg.approximate_first_receive_timestamp),
        }
        if self.fifo:
            attributes.update({"SequenceNumber": msg.sequence_number,
                               "MessageGroupId": msg.group_id,
                               "MessageDeduplicationId": msg.deduplication_id})
        record = {
            "messageId": msg.id,
            "receiptHandle": msg.receipt_handle,
            "body": msg.body,
            "attributes": attributes,
            "messageAttributes": {name: _lambda_attribute(value)
                                  for name, value in (msg.message_attributes or {}).items()},
            "md5OfBody": msg.body_md5,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.esm.event_source_arn,
            "awsRegion": self.region,
        }
        if msg.message_attributes:
            record["md5OfMessageAttributes"] = msg.attribute_md5
        return record

    def _process(self, batch: list) -> None:
        from edalab.lambda_runtime import Throttled

        try:
            patterns = _filter_patterns(self.esm.filter_criteria)
            if patterns:
                # "If none of your filters are satisfied, Lambda discards the record."
                for msg in [m for m in batch if not _passes_filters(patterns, m)]:
                    batch.remove(msg)
                    try:
                        self._sqs().delete_message(self.queue_name, msg.receipt_handle)
                    except Exception:  # deleted meanwhile, or the queue is gone
                        pass
                if not batch:
                    return
            fn = _function(self.account_id, self.esm.region, self.esm.function_arn)
            event = {"Records": [self._record(m) for m in batch]}
            try:
                result = run(fn, json.dumps(event), invoked_arn=self.esm.function_arn)
            except Throttled:  # reserved concurrency 0: the batch returns after the timeout
                return
            if result.error_type:
                return  # the whole batch comes back after the visibility timeout
            failed = set()
            if "ReportBatchItemFailures" in (self.esm.function_response_types or []):
                failed = _batch_item_failures(result.payload, {m.id for m in batch})
            for msg in batch:
                if msg.id not in failed:
                    try:
                        self._sqs().delete_message(self.queue_name, msg.receipt_handle)
                    except Exception:  # deleted meanwhile, or the queue is gone
                        pass
        except Exception:
            log.exception("SQS event source mapping %s: batch failed", self.esm.uuid)
        finally:
            with self.cond:
                self.inflight -= 1
                self.cond.notify_all()


def _lambda_attribute(value: dict) -> dict:
    """An SQS message attribute as Lambda's SQS event spells it."""
    out = {"stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType")}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        out["binaryValue"] = binary if isinstance(binary, str) else base64.b64encode(binary).decode()
    return out


def _batch_item_failures(payload: bytes, ids: set[str]) -> set[str]:
    """The message ids a partial batch response reports as failed.

    "Lambda treats a batch as a complete success if your function returns ... an empty
    batchItemFailures list, a null batchItemFailures list, an empty EventResponse, a null
    EventResponse. Lambda treats a batch as a complete failure if your function returns ... an
    invalid JSON response, an empty string itemIdentifier, a null itemIdentifier, an
    itemIdentifier with a bad key name, an itemIdentifier value with a message ID that doesn't
    exist."
    """
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return set(ids)
    if not response:
        return set()
    if not isinstance(response, dict):
        return set(ids)
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return set(ids)
        failed.add(identifier)
    return failed


MAX_FILTERS = 5  # "By default, you can define up to five different filters"


def _filter_patterns(criteria) -> list:
    """The parsed patterns of an event source mapping's FilterCriteria, or AWS's refusal.

    The patterns are EventBridge patterns (``edalab.aws.events`` checks their syntax)."""
    from . import events

    if not criteria:
        return []
    filters = criteria.get("Filters") if isinstance(criteria, dict) else None
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise _client_error("InvalidParameterValueException",
                            f"Number of filters must be at most {MAX_FILTERS}")
    patterns = []
    for item in filters:
        raw = item.get("Pattern") if isinstance(item, dict) else None
        try:
            if not raw or not isinstance(raw, str):
                raise ValueError("no pattern")
            patterns.append(events.load_pattern(raw))
        except Exception:
            raise _client_error("InvalidParameterValueException",
                                "Invalid filter pattern definition.") from None
    return patterns


def _passes_filters(patterns: list, msg) -> bool:
    """Whether an SQS message reaches the function: "Your filters are logically ORed together"
    and "Amazon SQS event source mappings only support filtering on the body key" (a body
    that is JSON is matched as JSON, any other body as a plain string)."""
    if not patterns:
        return True
    try:
        body = json.loads(msg.body)
    except ValueError:
        body = msg.body
    record = {"body": body}
    for pattern in patterns:
        try:
            if pattern.matches_event(record):
                return True
        except Exception:  # a shape the matcher cannot compare never matches
            continue
    return False


_pollers: dict[str, _SqsPoller] = {}
_pollers_lock = threading.Lock()
_esm_created = threading.Event()
_batch_executor = ThreadPoolExecutor(64, thread_name_prefix="edalab-esm-batch")


def _lambda_backends():
    from moto.awslambda.models import lambda_backends

    for account in list(lambda_backends.values()):
        yield from list(account.values())


@worker
def sqs_event_source_poller() -> None:
    """Keep one poller per SQS event source mapping, in every account and region."""
    while True:
        _esm_created.wait(0.5)
        _esm_created.clear()
        try:
            live = set()
            for backend in _lambda_backends():
                for esm in list(backend._event_source_mappings.values()):
                    if esm.event_source_arn.split(":")[2] != "sqs":
                        continue
                    live.add(esm.uuid)
                    with _pollers_lock:
                        poller = _pollers.get(esm.uuid)
                        if poller is None or poller.esm is not esm or not poller.thread.is_alive():
                            _pollers[esm.uuid] = _SqsPoller(backend, esm, _batch_executor).start()
            with _pollers_lock:
                for uid in [u for u in _pollers if u not in live]:
                    del _pollers[uid]  # its thread ends by itself once the mapping is gone
        except Exception:
            log.exception("SQS event source supervisor")


# -- moto patches ------------------------------------------------------------------------------
def _decoded_zip(code: dict) -> bytes | None:
    raw = code.get("ZipFile") if isinstance(code, dict) else None
    if raw is None:
        return None
    try:
        return base64.b64decode(raw if isinstance(raw, bytes) else raw.encode())
    except ValueError:
        return b""


def _check_zip(code: dict) -> None:
    data = _decoded_zip(code)
    if data is None:
        return
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            zf.namelist()
    except zipfile.BadZipFile:
        raise _client_error("InvalidParameterValueException",
                            "Could not unzip uploaded file. Please check your file, then try to "
                            "upload again.") from None


def _check_environment(spec: dict) -> None:
    variables = ((spec.get("Environment") or {}).get("Variables") or {})
    from edalab.lambda_runtime import AWS_RESERVED_ENV

    reserved = sorted(k for k in variables if k in AWS_RESERVED_ENV)
    if reserved:
        raise _client_error(
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}")


def _patch_backend(lm) -> None:
    backend_cls = lm.LambdaBackend

    create_function = backend_cls.create_function

    def patched_create_function(self, spec):
        _check_zip(spec.get("Code") or {})
        _check_environment(spec)
        fn = create_function(self, spec)
        fn.__dict__["_edalab_dead_letter"] = (spec.get("DeadLetterConfig") or {}).get("TargetArn")
        pool().start()  # warm the spare environment while the learner writes the next cell
        return fn

    update_code = backend_cls.update_function_code

    def patched_update_code(self, function_name, qualifier, body):
        _check_zip(body)
        return update_code(self, function_name, qualifier, body)

    update_config = backend_cls.update_function_configuration

    def patched_update_config(self, function_name, qualifier, body):
        _check_environment(body)
        if "DeadLetterConfig" in body:
            fn = self.get_function(function_name, qualifier)
            fn.__dict__["_edalab_dead_letter"] = (body["DeadLetterConfig"] or {}).get("TargetArn")
        return update_config(self, function_name, qualifier, body)

    create_esm = backend_cls.create_event_source_mapping

    def patched_create_esm(self, spec):
        arn = spec.get("EventSourceArn") or ""
        if arn.split(":")[2:3] == ["sqs"]:
            _check_sqs_mapping(self, spec)
            _filter_patterns(spec.get("FilterCriteria"))
        esm = create_esm(self, spec)
        if esm.event_source_arn.split(":")[2] == "sqs":
            # Our poller delivers; moto's send-time path (one message, no batching) must not.
            from moto.sqs.models import sqs_backends

            for queue in sqs_backends[self.account_id][self.region_name].queues.values():
                if queue.lambda_event_source_mappings.get(esm.function_arn) is esm:
                    del queue.lambda_event_source_mappings[esm.function_arn]
            _esm_created.set()
        return esm

    update_esm = backend_cls.update_event_source_mapping

    def patched_update_esm(self, uuid_, spec):
        esm = self.get_event_source_mapping(uuid_)
        if esm is not None and esm.event_source_arn.split(":")[2] == "sqs":
            merged = {"BatchSize": esm.batch_size,
                      "MaximumBatchingWindowInSeconds": esm.max_batch_window, **spec}
            _check_batching(merged)
            _filter_patterns(spec.get("FilterCriteria"))
        return update_esm(self, uuid_, spec)

    delete_function = backend_cls.delete_function

    def patched_delete_function(self, function_name, qualifier=None):
        fn = self.get_function(function_name, qualifier)
        delete_function(self, function_name, qualifier)
        if _pool is not None:
            _pool.retire(fn.account_id, fn.region, fn.function_name)

    add_permission = backend_cls.add_permission

    def patched_add_permission(self, function_name, qualifier, raw):
        sid = json.loads(raw).get("StatementId")
        fn = self.get_function(function_name, qualifier)
        if sid and any(s.get("Sid") == sid for s in fn.policy.statements):
            raise _client_error(
                "ResourceConflictException",
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement.", 409)
        return add_permission(self, function_name, qualifier, raw)

    backend_cls.create_function = patched_create_function
    backend_cls.update_function_code = patched_update_code
    backend_cls.update_function_configuration = patched_update_config
    backend_cls.create_event_source_mapping = patched_create_esm
    backend_cls.update_event_source_mapping = patched_update_esm
    backend_cls.add_permission = patched_add_permission
    backend_cls.delete_function = patched_delete_function


def _check_batching(spec: dict) -> None:
    batch = spec.get("BatchSize")
    window = spec.get("MaximumBatchingWindowInSeconds") or 0
    if batch is not None and int(batch) > 10 and int(window) < 1:
        raise _client_error(
            "InvalidParameterValueException",
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10")


def _check_sqs_mapping(backend, spec: dict) -> None:
    """What AWS checks when an SQS queue is mapped to a function."""
    from moto.sqs.models import sqs_backends

    _check_batching(spec)
    fn = backend.get_function(spec["FunctionName"])
    arn = spec["EventSourceArn"]
    refusal = iam.sqs_mapping_refusal(fn.function_arn, fn.role or "", arn)
    if refusal:
        raise _client_error("InvalidParameterValueException", refusal)
    for esm in backend._event_source_mappings.values():
        if esm.event_source_arn == arn and _unqualified(esm.function_arn) == _unqualified(fn.function_arn):
            raise _client_error(
                "ResourceConflictException",
                f"An event source mapping with SQS arn (\" {arn} \") and function (\" "
                f"{fn.function_name} \") already exists. Please update or delete the existing "
                f"mapping with UUID {esm.uuid}", 409)
    parts = arn.split(":")
    try:
        queue = sqs_backends[parts[4]][parts[3]].get_queue(parts[5])
    except Exception:
        return  # moto answers "Invalid EventSourceArn"
    visibility = int(queue.visibility_timeout or 30)
    if visibility < int(fn.timeout):
        raise _client_error(
            "InvalidParameterValueException",
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{fn.timeout} seconds")


def _patch_sns() -> None:
    from moto.sns.models import Subscription

    publish = Subscription.publish

    def patched_publish(self, message, message_id, subject=None, message_attributes=None,
                        group_id=None, deduplication_id=None, message_structure=None):
        if self.protocol != "lambda":
            return publish(self, message, message_id, subject=subject,
                           message_attributes=message_attributes, group_id=group_id,
                           deduplication_id=deduplication_id, message_structure=message_structure)
        if self._filter_policy_matcher is not None:
            if not self._filter_policy_matcher.matches(message_attributes, message):
                return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        post = self.get_post_data(message, message_id, subject, message_attributes=message_attributes)
        region = self.endpoint.split(":")[3]
        event = {"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": self.topic.arn,
                "Subject": subject,
                "Message": message,
                "Timestamp": post["Timestamp"],
                "SignatureVersion": post["SignatureVersion"],
                "Signature": post["Signature"],
                "SigningCertUrl": post["SigningCertURL"],
                "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                                  f"&SubscriptionArn={self.arn}",
                "MessageAttributes": message_attributes or {},
            },
        }]}
        invoke_async(self.account_id, region, self.endpoint, event)
        return None

    Subscription.publish = patched_publish


def _patch_invoke_async_api() -> None:
    """The deprecated InvokeAsync API (moto ran it synchronously): queue it like Event."""
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda.utils import get_backend
    from urllib.parse import unquote

    def invoke_async_api(self):
        index = -3 if self.path.endswith("/") else -2
        fn = get_backend(self.current_account, self.region).get_function(
            unquote(self.path.rsplit("/", 3)[index]), None)
        payload = self.body.decode() if isinstance(self.body, bytes) else (self.body or "{}")
        if len(payload.encode()) > MAX_INVOKE_ASYNC_API:
            raise _client_error(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_INVOKE_ASYNC_API} bytes for the InvokeAsync "
                "operation. For up to 1 MB use Invoke with InvocationType=Event.", 413)
        _require_python(fn)
        _async.submit(fn.account_id, fn.region, fn.function_arn, payload)
        return 202, {"status": 202}, json.dumps({"Status": 202})

    LambdaResponse.invoke_async = invoke_async_api


def _patch_s3() -> None:
    from moto.s3 import notifications

    def invoke_from_s3(account_id, event_body, fn_arn, region_name):
        invoke_async(account_id, region_name, fn_arn, event_body)

    notifications._invoke_awslambda = invoke_from_s3


def install() -> None:
    from moto.awslambda import models as lm

    from moto.awslambda.responses import LambdaResponse

    lm.LambdaFunction.invoke = _invoke
    get_configuration = lm.LambdaFunction.get_configuration

    def configuration_with_dead_letter(self, *args, **kwargs):
        config = get_configuration(self, *args, **kwargs)
        target = self.__dict__.get("_edalab_dead_letter")
        if target:  # moto dropped DeadLetterConfig
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    lm.LambdaFunction.get_configuration = configuration_with_dead_letter
    create_mapping_answer = LambdaResponse.create_event_source_mapping

    def create_event_source_mapping(self):
        # AWS answers CreateEventSourceMapping with State "Creating"; reads afterwards say
        # "Enabled" (or "Disabled"). moto answered "Enabled" at once.
        status, headers, body = create_mapping_answer(self)
        answer = json.loads(body)
        answer["State"] = "Creating"
        return status, headers, json.dumps(answer)

    LambdaResponse.create_event_source_mapping = create_event_source_mapping
    LambdaResponse.invoke = _invoke_api
    _patch_backend(lm)
    _patch_invoke_async_api()
    _patch_sns()
    _patch_s3()


@on_reset
def _reset() -> None:
    _async.reset()
    with _pollers_lock:
        _pollers.clear()
    if _pool is not None:
        _pool.reset()
