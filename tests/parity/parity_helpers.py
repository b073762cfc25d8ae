"""Helpers the parity tests share: waiting for asynchronous deliveries, draining queues."""

from __future__ import annotations

import json
import time


def wait_for(fetch, timeout: float = 20.0, interval: float = 0.2):
    """Poll ``fetch()`` until it returns something truthy; returns it, or the last falsy value.

    Used for asynchronous deliveries; the assertion that follows says what was expected.
    """
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(interval)


def receive_all(sqs, url: str, wait: float = 3.0, expect: int | None = None) -> list[dict]:
    """Every message that arrives on the queue within ``wait`` seconds (or until ``expect``)."""
    got: list[dict] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and (expect is None or len(got) < expect):
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageAttributeNames=["All"], AttributeNames=["All"])
        for msg in resp.get("Messages", []):
            got.append(msg)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    return got


def allow_services(client, arn: str, *services: str, url: str | None = None) -> None:
    """Give a queue (``url``) or topic the resource policy AWS requires before ``services``
    (``"sns.amazonaws.com"``...) may deliver to it: SQS and SNS refuse service deliveries
    that their policy does not allow."""
    action = "sqs:SendMessage" if url else "sns:Publish"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": list(services)}, "Action": action,
        "Resource": arn}]})
    if url:
        client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    else:
        client.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)


def bodies(messages: list[dict]) -> list:
    out = []
    for msg in messages:
        try:
            out.append(json.loads(msg["Body"]))
        except ValueError:
            out.append(msg["Body"])
    return out


class HttpEndpoint:
    """A real HTTP server on 127.0.0.1 that records every request (an SNS HTTP subscriber)."""

    def __init__(self):
        import http.server
        import threading

        self.requests: list[dict] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                endpoint.requests.append({"method": self.command, "path": self.path,
                                          "headers": {k.lower(): v for k, v in
                                                      self.headers.items()},
                                          "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of_type(self, kind: str) -> list[dict]:
        return [r for r in self.requests if r["headers"].get("x-amz-sns-message-type") == kind]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
