"""The embedded AWS emulator process: moto's server app, our AWS-parity extensions, and
LocalStack's health route, served on loopback.

Run by ``edalab up`` as ``python -m edalab.server --port 4566``; not meant to be imported by
notebooks. It is moto's own WSGI app (``DomainDispatcherApplication``) so every moto service
works; we only wrap it, which is why it is not ``ThreadedMotoServer``: the wrapper answers
``/_localstack/health`` (so LocalStack tooling and our health checks see the same thing) and
runs our reset hooks on ``/moto-api/reset``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys

SERVICES = ("sqs", "sns", "events", "lambda", "logs", "s3", "kafka", "dynamodb", "sts", "iam")

# Request bodies above this are refused before they are read (a 1.5 GB body once took the
# emulator to 4.7 GB). The largest requests the course makes legitimately, by AWS's quotas:
# Lambda Invoke, 6 MB request payload (synchronous; docs: "Lambda quotas", "Invocation payload
# (request and response)"); SQS SendMessage/SendMessageBatch, 1 MiB of message data in total
# (docs: "Amazon SQS message quotas", raised from 256 KiB in 2025); SNS Publish and EventBridge
# PutEvents, 256 KiB; CloudWatch Logs PutLogEvents, 1 MiB per batch; S3 PutObject in the labs
# holds a few kilobytes (AWS allows 5 GB in one PUT, which no lab needs); Lambda CreateFunction
# with an inline zip, a few kilobytes here (AWS allows 50 MB zipped - raise the limit to
# deploy such a package). 16 MiB leaves room over the 6 MB payload and its JSON/base64
# encoding. Configurable: ``--max-body-mb`` or ``EDALAB_MAX_BODY_MB``.
DEFAULT_MAX_BODY_MB = 16
READ_PIECE = 64 * 1024


def _service(environ) -> str:
    """The AWS service a request is signed for (``Credential=.../<region>/<service>/...``)."""
    import re

    match = re.search(r"Credential=[^/,]+/[^/,]+/[^/,]+/([^/,]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else ""


def _too_large(environ, start_response, size: str, limit: int):
    """An AWS-style refusal in the request's protocol: S3's XML EntityTooLarge (400), Lambda's
    RequestTooLargeException (413), other JSON protocols' RequestEntityTooLargeException (413),
    else the query protocol's ErrorResponse RequestEntityTooLarge (413)."""
    import uuid
    from xml.sax.saxutils import escape

    message = (f"Request body of {size} bytes is larger than this emulator accepts ({limit} bytes; "
               "raise it with EDALAB_MAX_BODY_MB).")
    request_id = str(uuid.uuid4())
    if _service(environ) == "s3":
        status, ctype = "400 Bad Request", "application/xml"
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>EntityTooLarge</Code>"
                f"<Message>{escape(message)}</Message><ProposedSize>{escape(size)}</ProposedSize>"
                f"<MaxSizeAllowed>{limit}</MaxSizeAllowed><RequestId>{request_id}</RequestId></Error>")
    elif "json" in environ.get("CONTENT_TYPE", "") or environ.get("HTTP_X_AMZ_TARGET") \
            or _service(environ) == "lambda":
        status, ctype = "413 Request Entity Too Large", "application/json"
        code = "RequestTooLargeException" if _service(environ) == "lambda" else "RequestEntityTooLargeException"
        body = json.dumps({"__type": code, "Type": "User", "message": message})
    else:
        status, ctype = "413 Request Entity Too Large", "text/xml"
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>RequestEntityTooLarge</Code>"
                f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
    data = body.encode()
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data))),
                            ("x-amzn-RequestId", request_id),
                            ("Connection", "close")])
    return [data]


def cap_body(app, limit: int):
    """WSGI middleware: refuse bodies over ``limit`` bytes without reading them.

    A declared Content-Length over the limit is refused at once; a chunked body (no length) is
    read in small pieces and refused as soon as it passes the limit, so at most ``limit``
    bytes of a request are ever held.
    """
    import io

    def capped(environ, start_response):
        declared = environ.get("CONTENT_LENGTH", "").strip()
        if declared:
            if not declared.isdigit() or int(declared) > limit:
                return _too_large(environ, start_response, declared, limit)
        elif environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            stream, pieces, size = environ["wsgi.input"], [], 0
            while True:
                piece = stream.read(min(READ_PIECE, limit + 1 - size))
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
                if size > limit:
                    return _too_large(environ, start_response, f"more than {limit}", limit)
            body = b"".join(pieces)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return capped


def max_body_bytes(mb: float | None = None) -> int:
    raw = mb if mb is not None else os.environ.get("EDALAB_MAX_BODY_MB", DEFAULT_MAX_BODY_MB)
    return int(float(raw) * 1024 * 1024)


def build_app(max_body: int | None = None):
    from moto.server import DomainDispatcherApplication, create_backend_app

    from . import aws

    installed = aws.install_all()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in ("/_localstack/health", "/_edalab/health"):
            body = json.dumps({
                "services": {s: "running" for s in SERVICES},
                "edition": "edalab-embedded",
                "extensions": installed,
                "iam": "enforced" if aws.iam.enforced() else "off",
            }).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            result = moto_app(environ, start_response)
            aws.run_reset_hooks()
            return result
        return moto_app(environ, start_response)

    return cap_body(app, max_body if max_body is not None else max_body_bytes())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edalab.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--max-body-mb", type=float, default=None,
                        help=f"largest request body accepted, MiB (default: EDALAB_MAX_BODY_MB, "
                             f"else {DEFAULT_MAX_BODY_MB})")
    args = parser.parse_args(argv)
    from .target import is_loopback

    if not is_loopback(args.host):
        print(f"edalab.server: refusing to listen on {args.host}: loopback only", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("EDALAB_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from werkzeug.serving import make_server

    from . import aws

    server = make_server(args.host, args.port, build_app(max_body_bytes(args.max_body_mb)), threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    aws.start_workers()
    print(f"edalab.server: AWS emulator on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
