"""The emulator refuses request bodies over its limit without reading them into memory.

AWS refuses oversized requests the same way, e.g. Lambda: "RequestTooLargeException - The
request payload exceeded the Invoke request body JSON input quota" (HTTP 413; Lambda API
reference, Invoke, Errors), and S3: "EntityTooLarge - Your proposed upload exceeds the
maximum allowed object size" (HTTP 400; S3 API reference, Error responses).
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from edalab.stack import free_port

LIMIT_MB = 4
MB = 1024 * 1024


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """A dedicated emulator with a 4 MiB body limit: (port, psutil.Process)."""
    port = free_port()
    env = dict(os.environ, EDALAB_HOME=str(tmp_path_factory.mktemp("capped-home")))
    proc = subprocess.Popen([sys.executable, "-m", "edalab.server", "--port", str(port),
                             "--max-body-mb", str(LIMIT_MB)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_localstack/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("the emulator did not start")
            time.sleep(0.1)
    yield port, psutil.Process(proc.pid)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _response(sock: socket.socket) -> bytes:
    """The status line, headers and Content-Length body of the server's answer."""
    sock.settimeout(30)
    data = b""
    try:
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if sep and length and len(body) >= length[0]:
                break
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except OSError:
        pass
    return data


def _send_until_answered(sock: socket.socket, chunk: bytes, total: int) -> bool:
    """Send up to ``total`` bytes of ``chunk``s; stop once the server answers or hangs up."""
    sent = 0
    while sent < total:
        if select.select([sock], [], [], 0)[0]:
            return True
        try:
            sock.sendall(chunk)
        except OSError:
            return True
        sent += len(chunk)
    return False


HEAD = ("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=host, Signature=0\r\n")


def test_a_declared_oversized_body_is_refused_before_it_is_read(emulator):
    port, process = emulator
    before = process.memory_info().rss
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall((HEAD + f"Content-Length: {1536 * MB}\r\n\r\n").encode())
        _send_until_answered(sock, b"A" * MB, 64 * MB)
        answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"RequestEntityTooLarge" in answer
    assert process.memory_info().rss - before < 32 * MB


def test_a_chunked_body_is_cut_off_at_the_limit(emulator):
    port, process = emulator
    before = process.memory_info().rss
    chunk = f"{MB:x}\r\n".encode() + b"B" * MB + b"\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall((HEAD + "Transfer-Encoding: chunked\r\n\r\n").encode())
        answered = _send_until_answered(sock, chunk, 256 * MB)
        answer = _response(sock)
    assert answered, "the emulator read 256 MiB of a chunked body without refusing it"
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert process.memory_info().rss - before < 8 * LIMIT_MB * MB


def test_s3_and_json_protocols_get_their_own_error_shape(emulator):
    port, _ = emulator
    for service, extra, status, code in (
            ("s3", "", b"400", b"<Code>EntityTooLarge</Code>"),
            ("lambda", "Content-Type: application/json\r\n", b"413", b'"RequestTooLargeException"')):
        head = HEAD.replace("/sqs/", f"/{service}/").replace(
            "Content-Type: application/x-www-form-urlencoded\r\n", extra)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall((head + f"Content-Length: {LIMIT_MB * MB + 1}\r\n\r\n").encode())
            answer = _response(sock)
        assert answer.startswith(b"HTTP/1.1 " + status) and code in answer, answer[:300]


def test_requests_within_the_limit_still_work(emulator, monkeypatch):
    """A 1 MiB SQS message (SQS's maximum) and a chunked upload under the limit go through."""
    import edalab

    monkeypatch.setenv("EDALAB_AWS_PORT", str(port := emulator[0]))
    sqs = edalab.client("sqs")
    url = sqs.create_queue(QueueName="big-messages")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m" * (MB - 1024))
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"]
    assert len(got) == MB - 1024
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_localstack/health",
                                     data=iter([b"x" * MB, b"y" * MB]), method="POST",
                                     headers={"Transfer-Encoding": "chunked"})
    assert json.loads(urllib.request.urlopen(request, timeout=30).read())["services"]
