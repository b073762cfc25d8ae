"""The process a Lambda handler runs in: our stand-in for AWS's Python runtime interface client.

Started by ``edalab.lambda_runtime.pool`` as ``python -I bootstrap.py <in_fd> <out_fd>``. It is
one file with no imports from ``edalab``, so the handler's module namespace is clean (a handler
module called ``context`` or ``protocol`` must not clash with ours) and start-up stays cheap.

Life of a worker, like an AWS execution environment:

1. **spare**: preload what most handlers import (``boto3``) and wait, not yet bound to a function;
2. **init** (one message): become the execution environment of one function version: set the
   environment variables, ``cwd`` and ``sys.path`` to the unpacked code, import the handler module
   (AWS's "Init phase"), and report ``Runtime.ImportModuleError`` and friends exactly as the AWS
   runtime does;
3. **invoke** (many messages): run the handler with a context object, marshal its result to
   JSON, report exceptions as AWS's ``errorMessage`` / ``errorType`` / ``stackTrace`` payload.

Module globals survive between invocations, as on AWS (a warm start). The parent enforces the
timeout and memory limit by killing this process; if the parent dies, we exit.

Messages both ways are frames: 4-byte big-endian length + UTF-8 JSON. Output the handler writes
to ``sys.stdout`` / ``sys.stderr`` (``print``, ``logging``) goes to the log file given as our
stdout, one record per line: ``\\x1e<epoch ms>\\t<line>``; the parent turns records into
CloudWatch Logs events. Lines written around Python (C code, child processes) arrive unframed.
"""

import decimal
import json
import logging
import os
import struct
import sys
import threading
import time
import traceback

# The script's folder (edalab/lambda_runtime) must not shadow the handler's modules.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

RECORD = "\x1e"
_REQUEST_ID = ""


# -- framing ---------------------------------------------------------------------------------
def _read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv(fd):
    (size,) = struct.unpack(">I", _read_exact(fd, 4))
    return json.loads(_read_exact(fd, size))


def send(fd, message):
    data = json.dumps(message).encode()
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


# -- output: every line a timestamped record -------------------------------------------------
class LineRecorder:
    """sys.stdout / sys.stderr: unbuffered like AWS's runtime, one record per complete line."""

    def __init__(self, raw, lock):
        self._raw = raw  # the binary file behind fd 1
        self._lock = lock
        self._partial = ""
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            text = self._partial + text
            lines = text.split("\n")
            self._partial = lines.pop()
            self._emit(lines)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def _emit(self, lines):
        if not lines:
            return
        ms = int(time.time() * 1000)
        out = "".join(f"{RECORD}{ms}\t{line}\n" for line in lines)
        self._raw.write(out.encode("utf-8", "replace"))
        self._raw.flush()

    def flush(self):
        with self._lock:
            if self._partial:
                partial, self._partial = self._partial, ""
                self._emit([partial])

    @property
    def buffer(self):
        """``sys.stdout.buffer.write(b"...")`` works too (decoded as UTF-8)."""
        return _BinaryView(self)

    def isatty(self):
        return False

    def fileno(self):
        return self._raw.fileno()

    @property
    def closed(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False


class _BinaryView:
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        self._text.flush()


# -- the context object (mirrors awslambdaric's LambdaContext) -------------------------------
class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity=None):
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name")

    def __init__(self, data):
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, data):
        self.custom = data.get("custom")
        self.env = data.get("env")
        self.client = Client(data["client"]) if data.get("client") is not None else None


class LambdaContext:
    """What AWS passes as ``context``: same attributes, same types (memory_limit_in_mb is a
    string, as in AWS's runtime, because it comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE)."""

    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context=None,
                 identity=None):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self.identity = CognitoIdentity(identity)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name="
                f"{self.log_group_name},log_stream_name={self.log_stream_name},function_name="
                f"{self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
                f"function_version={self.function_version},invoked_function_arn="
                f"{self.invoked_function_arn},client_context={self.client_context},"
                f"identity={self.identity}])")


# -- errors, as the AWS runtime reports them -------------------------------------------------
def make_error(message, error_type, stack_trace=None, request_id=""):
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id or "", "stackTrace": stack_trace or []}


def log_error(error):
    """AWS's text-format error record: one log event, lines joined by \\r."""
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")
    sys.stdout.flush()


def user_frames(tb):
    """The traceback without our own frames, formatted like the AWS runtime's stackTrace."""
    frames = traceback.extract_tb(tb)
    here = os.path.abspath(__file__)
    frames = [f for f in frames if os.path.abspath(f.filename) != here] or frames
    return traceback.format_list(frames)


class Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error = make_error(message, error_type, trace)


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict",
                    f"Cannot use built-in module {modname} as a handler module")
    import importlib

    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {exc}",
                    trace) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    f"Handler '{fname}' missing on module '{modname}'") from None


class _Encoder(json.JSONEncoder):
    """JSON like the AWS runtime's marshaller: Decimal (DynamoDB numbers) becomes a number."""

    def default(self, obj):
        if isinstance(obj, decimal.Decimal):
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        return super().default(obj)


# -- logging, as the AWS runtime configures it ----------------------------------------------
class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _REQUEST_ID
        return True


class _OneEventHandler(logging.Handler):
    """The handler AWS's runtime puts on the root logger; a multi-line record stays one log
    event (its newlines become \\r)."""

    def emit(self, record):
        try:
            text = self.format(record)
            body, end = (text[:-1], "\n") if text.endswith("\n") else (text, "")
            sys.stdout.write(body.replace("\n", "\r") + end)
        except Exception:
            self.handleError(record)


def setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = _OneEventHandler()
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)


# -- the account hook: every boto3 client the handler makes talks to its own account ---------
_ACCOUNT = {"id": None}


def _scope_to_account(request, **_):
    if _ACCOUNT["id"]:
        request.headers["x-moto-account-id"] = _ACCOUNT["id"]


def preload():
    """What a spare worker does before it knows its function: the slow, common imports."""
    try:
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _scope_to_account))
        import boto3  # noqa: F401 - warm for the handler's own import
    except ImportError:  # boto3 is not installed: handlers that need it fail as on a bare runtime
        pass


def watch_parent(parent_pid):
    """Exit if the emulator that started us is gone (a hung handler must not outlive it)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


def main():
    global _REQUEST_ID
    in_fd, out_fd = int(sys.argv[1]), int(sys.argv[2])
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    raw = os.fdopen(1, "wb", buffering=0, closefd=False)
    lock = threading.RLock()
    sys.stdout = LineRecorder(raw, lock)
    sys.stderr = LineRecorder(raw, lock)
    preload()
    send(out_fd, {"op": "ready"})

    try:
        init = recv(in_fd)
    except EOFError:
        return
    t0 = time.perf_counter()
    os.environ.clear()
    os.environ.update(init["env"])
    _ACCOUNT["id"] = init["account_id"]
    os.chdir(init["task_root"])
    sys.path.insert(0, init["task_root"])
    setup_logging()
    if init.get("as_limit"):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (init["as_limit"], init["as_limit"]))
    try:
        handler = load_handler(init["handler"])
        init_error = None
    except Fault as fault:
        init_error = fault.error
    except BaseException:
        # An exception raised by the module's own top-level code (AWS reports it as is).
        etype, value, tb = sys.exc_info()
        init_error = make_error(str(value), etype.__name__, user_frames(tb))
    if init_error:
        log_error(init_error)
    sys.stdout.flush()
    sys.stderr.flush()
    send(out_fd, {"op": "init_done", "error": init_error,
                  "init_ms": (time.perf_counter() - t0) * 1000})
    if init_error:
        return

    encoder = _Encoder()
    while True:
        try:
            msg = recv(in_fd)
        except EOFError:
            return
        _REQUEST_ID = msg["request_id"]
        os.environ["_X_AMZN_TRACE_ID"] = msg.get("trace_id", "")
        reply = {"op": "result", "handler_start": time.time()}
        try:
            context = LambdaContext(msg["request_id"], msg["deadline_ms"], msg["invoked_arn"],
                                    msg.get("client_context"))
            event = json.loads(msg["payload"])
            result = handler(event, context)
            if isinstance(result, (bytes, bytearray)):
                import base64

                reply["payload_b64"] = base64.b64encode(bytes(result)).decode()
            else:
                try:
                    reply["payload"] = encoder.encode(result)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
        except Fault as fault:
            fault.error["requestId"] = _REQUEST_ID
            reply = {"op": "error", "error": fault.error, "handler_start": reply["handler_start"]}
        except Exception:
            etype, value, tb = sys.exc_info()
            reply = {"op": "error", "handler_start": reply["handler_start"],
                     "error": make_error(str(value), etype.__name__, user_frames(tb), _REQUEST_ID)}
        if reply["op"] == "error":
            log_error(reply["error"])
        sys.stdout.flush()
        sys.stderr.flush()
        send(out_fd, reply)


if __name__ == "__main__":
    main()
