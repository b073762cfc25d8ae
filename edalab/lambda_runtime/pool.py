"""Warm execution environments per function version, and the invocation itself.

``Pool.invoke(spec, payload)`` takes an idle environment of that exact function version
(code, handler, configuration) or starts one from the spare, runs the handler, turns its
output into CloudWatch Logs events (``START`` / ``END`` / ``REPORT``) for ``log_sink`` and
returns a ``Result`` carrying AWS's payload, or AWS's error payload.

Concurrency: one invocation per environment at a time, as on AWS; a function gets more
environments when invocations overlap, up to its reserved concurrency (if set) or
``max_concurrency``. Environments idle for ``idle_ttl`` seconds are stopped; an environment
whose function was updated is stopped instead of being reused.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .worker import Worker, WorkerGone, WorkerOutOfMemory, WorkerTimeout

log = logging.getLogger("edalab.lambda")

INIT_TIMEOUT = 10.0     # s: AWS's limit for the Init phase of on-demand functions
# Environment variables the runtime sets and AWS does not let a function override.
AWS_RESERVED_ENV = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
TAIL_BYTES = 4096       # LogType=Tail returns the last 4 KB of the log


class Throttled(Exception):
    """The function's reserved concurrency is used up (AWS: TooManyRequestsException)."""


@dataclass(frozen=True)
class FunctionSpec:
    """One function version as the runtime needs it (built from moto's LambdaFunction)."""

    account_id: str
    region: str
    function_name: str
    version: str
    function_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: tuple  # ((name, value), ...) sorted
    code_sha: str
    code_bytes: bytes = field(compare=False, repr=False, default=b"")
    reserved_concurrency: int | None = field(compare=False, default=None)
    # Credentials of the execution role (a new role means new environments, as on AWS).
    session_token: str = "test"

    @property
    def identity(self) -> tuple:
        return (self.account_id, self.region, self.function_name, self.version)

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"


@dataclass
class Result:
    request_id: str
    payload: bytes
    error_type: str | None = None          # None: success; else the payload's errorType
    log_tail: str = ""                     # last 4 KB of this invocation's log
    handler_start: float | None = None     # epoch s when the handler was called
    duration_ms: float = 0.0

    @property
    def function_error(self) -> str | None:
        """The X-Amz-Function-Error header AWS sets: "Unhandled" for every runtime error."""
        return "Unhandled" if self.error_type else None

    @property
    def log_result(self) -> str:
        return base64.b64encode(self.log_tail.encode()[-TAIL_BYTES:]).decode()


class Pool:
    def __init__(self, root: Path, log_sink: Callable[[FunctionSpec, str, list[dict]], None],
                 endpoint: Callable[[], str], spares: int = 1, max_concurrency: int = 10,
                 idle_ttl: float = 300.0, max_idle: int = 32):
        self.root = Path(root)
        self.log_sink = log_sink
        self.endpoint = endpoint
        self.spares = spares
        self.max_concurrency = max_concurrency
        self.idle_ttl = idle_ttl
        self.max_idle = max_idle
        self._cond = threading.Condition()
        self._idle: dict[tuple, list[Worker]] = defaultdict(list)
        self._busy: dict[tuple, int] = defaultdict(int)
        self._current: dict[tuple, FunctionSpec] = {}   # identity -> latest spec seen
        self._spare_list: list[Worker] = []
        self._all: set[Worker] = set()
        self._generation = 0
        self._started = False
        self._refill = threading.Event()
        self._code_lock = threading.Lock()

    # -- background: spares and idle reaping ------------------------------------------------
    def start(self) -> None:
        """Start the spare-keeper and the reaper (idempotent); the spare starts warming now."""
        with self._cond:
            if self._started:
                return
            self._started = True
        (self.root / "workers").mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self._keep_spares, name="edalab-lambda-spares", daemon=True).start()
        threading.Thread(target=self._reap, name="edalab-lambda-reaper", daemon=True).start()
        self._refill.set()

    def _spawn(self) -> Worker:
        # MALLOC_ARENA_MAX: glibc reads it at start; fewer arenas keep the address space near
        # real use, so the RLIMIT_AS backstop does not hit handlers that start threads.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": "UTC",
               "MALLOC_ARENA_MAX": "2"}
        worker = Worker(self.root / "workers", env)
        with self._cond:
            self._all.add(worker)
        return worker

    def _keep_spares(self) -> None:
        while True:
            self._refill.wait()
            self._refill.clear()
            while True:
                with self._cond:
                    self._spare_list = [w for w in self._spare_list if w.alive()]
                    missing = len(self._spare_list) < self.spares
                if not missing:
                    break
                worker = self._spawn()
                with self._cond:
                    self._spare_list.append(worker)

    def _take_spare(self) -> Worker:
        with self._cond:
            worker = self._spare_list.pop(0) if self._spare_list else None
        self._refill.set()
        return worker if worker is not None and worker.alive() else self._spawn()

    def _reap(self) -> None:
        while True:
            time.sleep(min(10.0, self.idle_ttl / 2))
            now = time.monotonic()
            doomed = []
            with self._cond:
                idle = sorted((w for ws in self._idle.values() for w in ws), key=lambda w: w.last_used)
                for i, worker in enumerate(idle):
                    if now - worker.last_used > self.idle_ttl or len(idle) - i > self.max_idle:
                        doomed.append(worker)
                for worker in doomed:
                    self._idle[worker.key].remove(worker)
            for worker in doomed:
                self._discard(worker)

    def _discard(self, worker: Worker) -> None:
        worker.dispose()
        with self._cond:
            self._all.discard(worker)

    def reset(self) -> None:
        """Stop every environment (emulator state wiped); code folders go too."""
        with self._cond:
            self._generation += 1
            idle = [w for ws in self._idle.values() for w in ws]
            busy = [w for w in self._all if w not in self._spare_list and w not in idle]
            self._idle.clear()
            self._current.clear()
        for worker in idle:
            self._discard(worker)
        for worker in busy:
            worker.kill()   # its invocation ends as WorkerGone; _release then disposes of it
        shutil.rmtree(self.root / "code", ignore_errors=True)

    def retire(self, account_id: str, region: str, function_name: str) -> None:
        """The function was deleted: its environments are not reused (a function created again
        under the same name starts cold, as on AWS)."""
        with self._cond:
            gone = [spec for spec in self._current
                    if spec[:3] == (account_id, region, function_name)]
            doomed = []
            for identity in gone:
                spec = self._current.pop(identity)
                doomed += self._idle.pop(spec, [])
        for worker in doomed:
            self._discard(worker)

    def shutdown(self) -> None:
        with self._cond:
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._spare_list.clear()
        for worker in workers:
            worker.dispose()

    # -- environments ----------------------------------------------------------------------
    def task_root(self, spec: FunctionSpec) -> Path:
        """The unzipped deployment package (shared by every function with the same zip)."""
        name = spec.code_sha.replace("/", "_").replace("+", "-").rstrip("=")  # base64 or hex
        target = self.root / "code" / name
        with self._code_lock:
            if not target.is_dir():
                tmp = target.with_name(f"{name}.{uuid.uuid4().hex}")
                tmp.mkdir(parents=True)
                with zipfile.ZipFile(io.BytesIO(spec.code_bytes)) as zf:
                    zf.extractall(tmp)
                tmp.rename(target)
        return target

    def _env(self, spec: FunctionSpec, task_root: Path, stream: str) -> dict:
        """What AWS puts in a Python function's environment, plus the emulator's endpoint.

        Credentials are dummies (the account id as key id, like ``edalab.clients``); the
        account itself reaches the emulator through the ``x-moto-account-id`` header that the
        bootstrap adds to every boto3 request.
        """
        endpoint = self.endpoint()
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONPATH": str(task_root),
            "AWS_ENDPOINT_URL": endpoint,
            "EDALAB_TARGET": "embedded",
            "EDALAB_AWS_ENDPOINT": endpoint,
        }
        env.update(dict(spec.environment))
        env.update({  # reserved: AWS does not let a function set these
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_ACCESS_KEY_ID": spec.account_id,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": spec.session_token,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(Path(__file__).parent),
            "EDALAB_ACCOUNT_ID": spec.account_id,
            "EDALAB_REGION": spec.region,
        })
        return env

    def _acquire(self, spec: FunctionSpec, wait: bool) -> tuple[Worker, bool]:
        cap = self.max_concurrency if spec.reserved_concurrency is None else spec.reserved_concurrency
        stale = []
        with self._cond:
            previous = self._current.get(spec.identity)
            if previous is not None and previous != spec:  # updated: old environments go
                stale = self._idle.pop(previous, [])
            self._current[spec.identity] = spec
            while True:
                idle = self._idle.get(spec)
                if idle:
                    worker = idle.pop()
                    self._busy[spec] += 1
                    break
                if self._busy[spec] < cap:
                    self._busy[spec] += 1
                    worker = None
                    break
                if not wait or cap == 0:
                    raise Throttled()
                self._cond.wait()
            generation = self._generation
        for old in stale:
            self._discard(old)
        if worker is not None:
            return worker, False
        try:
            worker = self._take_spare()
            worker.key = spec
            worker.generation = generation
            date = datetime.now(timezone.utc)
            worker.stream = f"{date:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        except BaseException:
            self._release_slot(spec)
            raise
        return worker, True

    def _release_slot(self, spec: FunctionSpec) -> None:
        with self._cond:
            self._busy[spec] -= 1
            if not self._busy[spec]:
                del self._busy[spec]
            self._cond.notify_all()

    def _release(self, worker: Worker, reusable: bool) -> None:
        spec = worker.key
        with self._cond:
            keep = (reusable and worker.alive() and worker.generation == self._generation
                    and self._current.get(spec.identity) == spec)
            if keep:
                worker.trim_log()
                self._idle[spec].append(worker)
            self._busy[spec] -= 1
            if not self._busy[spec]:
                del self._busy[spec]
            self._cond.notify_all()
        if not keep:
            self._discard(worker)

    # -- invocation -------------------------------------------------------------------------
    def invoke(self, spec: FunctionSpec, payload: str, request_id: str | None = None,
               invoked_arn: str | None = None, client_context: dict | None = None,
               wait: bool = True) -> Result:
        """Run the handler once (synchronously) and return AWS's result for it.

        ``wait=False``: raise ``Throttled`` instead of waiting when every environment the
        function may have is busy (sync invocations with reserved concurrency).
        """
        self.start()
        request_id = request_id or str(uuid.uuid4())
        worker, cold = self._acquire(spec, wait)
        run = _Run(spec, worker, request_id)
        reusable = False
        try:
            if cold and not self._init(run):
                run.start()
            else:
                run.start()
                offset = worker.log_offset()
                try:
                    reply = worker.invoke({
                        "request_id": request_id, "payload": payload,
                        "deadline_ms": _ms(run.t_start) + spec.timeout * 1000,
                        "invoked_arn": invoked_arn or spec.function_arn,
                        "client_context": client_context,
                        "trace_id": f"Root=1-{int(run.t_start):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                    }, spec.timeout, spec.memory_size * 1024 * 1024)
                except (WorkerGone, WorkerTimeout) as exc:
                    run.output(offset)
                    run.platform_failure(exc)
                else:
                    run.output(offset)
                    run.handler_start = reply.get("handler_start")
                    reusable = True
                    if reply["op"] == "error":
                        run.error_type = reply["error"].get("errorType") or "Unhandled"
                        run.body = json.dumps(reply["error"]).encode()
                    elif "payload_b64" in reply:
                        run.body = base64.b64decode(reply["payload_b64"])
                    else:
                        run.body = reply["payload"].encode()
            events = run.finish()
            try:
                self.log_sink(spec, worker.stream, events)
            except Exception:  # logs must never fail an invocation
                log.exception("writing the logs of %s failed", spec.function_name)
            return run.result()
        finally:
            self._release(worker, reusable)

    def _init(self, run: "_Run") -> bool:
        """Init phase of a new environment; False (and ``run`` holds the error) if it failed."""
        spec, worker = run.spec, run.worker
        task_root = self.task_root(spec)
        offset = worker.log_offset()
        run.log(f"INIT_START Runtime Version: {spec.runtime}.edalab")
        t0 = time.time()
        try:
            init = worker.init({
                "env": self._env(spec, task_root, worker.stream), "handler": spec.handler,
                "task_root": str(task_root), "account_id": spec.account_id,
                "as_limit": _address_space_limit(spec.memory_size),
            }, INIT_TIMEOUT + spec.timeout)
        except (WorkerGone, WorkerTimeout) as exc:
            run.init_ms = (time.time() - t0) * 1000
            run.output(offset)
            run.platform_failure(exc)
        else:
            run.init_ms = init.get("init_ms", 0.0)
            run.output(offset)
            if not init.get("error"):
                return True
            error = dict(init["error"], requestId=run.request_id)
            run.error_type, run.status = error["errorType"], "error"
            run.body = json.dumps(error).encode()
        run.log(f"INIT_REPORT Init Duration: {run.init_ms:.2f} ms\tPhase: init\t"
                f"Status: {run.status}\tError Type: {run.error_type}")
        return False


class _Run:
    """The bookkeeping of one invocation: log lines, outcome, timings."""

    def __init__(self, spec: FunctionSpec, worker: Worker, request_id: str):
        self.spec, self.worker, self.request_id = spec, worker, request_id
        self.events: list[tuple[int, str]] = []
        self.body = b"null"
        self.error_type: str | None = None
        self.status: str | None = None          # REPORT's Status: timeout / error
        self.report_error_type: str | None = None
        self.init_ms: float | None = None
        self.handler_start: float | None = None
        self.t_start = time.time()
        self.duration_ms = 0.0

    def log(self, message: str) -> None:
        self.events.append((_ms(time.time()), message))

    def output(self, offset: int) -> None:
        self.events += self.worker.read_log(offset, _ms(time.time()))

    def start(self) -> None:
        self.t_start = time.time()
        self.log(f"START RequestId: {self.request_id} Version: {self.spec.version}")

    def platform_failure(self, exc: Exception) -> None:
        """The environment timed out or died: AWS's platform error, not the handler's."""
        rid, timeout = self.request_id, self.spec.timeout
        if isinstance(exc, WorkerTimeout):
            self.log(f"{iso_now()} {rid} Task timed out after {timeout:.2f} seconds")
            self.error_type, self.status = "Sandbox.Timedout", "timeout"
            message = f"RequestId: {rid} Error: Task timed out after {timeout:.2f} seconds"
        else:
            self.error_type, self.status = "Runtime.ExitError", "error"
            message = f"RequestId: {rid} Error: Runtime exited with error: {exc.reason}"
            self.log(message)
            self.log(self.error_type)
            if isinstance(exc, WorkerOutOfMemory):
                self.report_error_type = "Runtime.OutOfMemory"
        self.body = json.dumps({"errorType": self.error_type, "errorMessage": message}).encode()

    def finish(self) -> list[dict]:
        """END and REPORT; the CloudWatch Logs events of the whole invocation."""
        t_end = time.time()
        self.duration_ms = (t_end - self.t_start) * 1000
        billed = max(1, math.ceil(self.duration_ms + (self.init_ms or 0)))
        report = [f"REPORT RequestId: {self.request_id}", f"Duration: {self.duration_ms:.2f} ms",
                  f"Billed Duration: {billed} ms", f"Memory Size: {self.spec.memory_size} MB",
                  f"Max Memory Used: {self.worker.peak_rss_mb()} MB"]
        if self.init_ms is not None:
            report.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status:
            report.append(f"Status: {self.status}")
            if self.status == "error":
                report.append(f"Error Type: {self.report_error_type or self.error_type}")
        self.events.append((_ms(t_end), f"END RequestId: {self.request_id}"))
        self.events.append((_ms(t_end), "\t".join(report)))
        self.events.sort(key=lambda e: e[0])  # stable: same-millisecond lines keep their order
        return [{"timestamp": ts, "message": msg} for ts, msg in self.events]

    def result(self) -> Result:
        tail = "".join(msg + "\n" for _, msg in self.events)
        return Result(self.request_id, self.body, self.error_type, tail, self.handler_start,
                      self.duration_ms)


def iso_now() -> str:
    """UTC now as AWS writes it in logs and records: 2026-11-27T09:00:00.123Z."""
    now = datetime.now(timezone.utc)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def _ms(t: float) -> int:
    return int(t * 1000)


def _address_space_limit(memory_mb: int) -> int:
    """A hard backstop (RLIMIT_AS) far above the memory size: the parent's RSS watch is what
    enforces MemorySize; this only stops one giant allocation from swamping the machine."""
    return (2 * memory_mb + 1024) * 1024 * 1024
