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


def build_app():
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
            }).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            result = moto_app(environ, start_response)
            aws.run_reset_hooks()
            return result
        return moto_app(environ, start_response)

    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edalab.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)
    from .target import is_loopback

    if not is_loopback(args.host):
        print(f"edalab.server: refusing to listen on {args.host}: loopback only", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("EDALAB_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from werkzeug.serving import make_server

    from . import aws

    server = make_server(args.host, args.port, build_app(), threaded=True)
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
