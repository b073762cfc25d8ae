"""SQS -> Lambda on the embedded stack: trigger latency and throughput of an event source mapping.

Starts its own stack on free ports (temporary state folder) and prints:

* latency from ``send_message`` to the handler's first line, p50 / p95 over 200 messages sent
  one by one (BatchSize 10, MaximumBatchingWindowInSeconds 0, warm function); target p50 <= 50 ms;
* end-to-end throughput through the mapping: 500 messages sent in batches of 10 while the
  mapping consumes them, until the queue is empty;
* the reference measured in the same run: the same two figures for a plain SQS consumer
  (a thread long-polling ReceiveMessage and deleting what it got) and the ratios.

The handler stamps ``time.time()`` as its first statement and prints it with the message ids;
the bench reads those lines back from CloudWatch Logs afterwards, so nothing but the print sits
between the stamp and the handler's start.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time

LATENCY_MESSAGES = 200
THROUGHPUT_MESSAGES = 500
GAP = 0.02  # s between latency probes, so each one meets an idle poller

HANDLER = """
import time
def lambda_handler(event, context):
    started = time.time()
    print("STARTED", started, " ".join(r["messageId"] for r in event["Records"]))
"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def read_starts(logs, name: str) -> dict[str, float]:
    starts, kwargs = {}, {"logGroupName": f"/aws/lambda/{name}"}
    while True:
        page = logs.filter_log_events(**kwargs)
        for event in page["events"]:
            if event["message"].startswith("STARTED "):
                _, stamp, *ids = event["message"].split()
                for mid in ids:
                    starts[mid] = float(stamp)
        if not page.get("nextToken"):
            return starts
        kwargs["nextToken"] = page["nextToken"]


def drained(sqs, url: str) -> bool:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def send_batches(sqs, url: str, total: int, senders: int = 4) -> None:
    def run(offset: int) -> None:
        for start in range(offset * 10, total, senders * 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"n": start + i})}
                for i in range(min(10, total - start))])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def lambda_figures(aws) -> tuple[list[float], float]:
    from edalab import zip_handler
    from edalab.lambda_zip import ensure_lambda_role

    sqs, lam, logs = aws("sqs"), aws("lambda"), aws("logs")
    role = ensure_lambda_role(aws("iam"))
    lam.create_function(FunctionName="bench", Runtime="python3.12", Role=role,
                        Handler="handler.lambda_handler", Code={"ZipFile": zip_handler(HANDLER)})
    url, arn = queue(sqs, "bench-latency")
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="bench", BatchSize=10,
                                    MaximumBatchingWindowInSeconds=0)
    for _ in range(5):  # warm-up: the environment exists before we measure
        sqs.send_message(QueueUrl=url, MessageBody="warm-up")
        time.sleep(0.3)
    while not drained(sqs, url):
        time.sleep(0.05)
    sent = {}
    for i in range(LATENCY_MESSAGES):
        t0 = time.time()
        mid = sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"probe": i}))["MessageId"]
        sent[mid] = t0
        time.sleep(GAP)
    deadline = time.time() + 60
    while True:
        starts = read_starts(logs, "bench")
        if all(mid in starts for mid in sent) or time.time() > deadline:
            break
        time.sleep(0.2)
    missing = [mid for mid in sent if mid not in starts]
    if missing:
        raise SystemExit(f"{len(missing)} probe messages never reached the handler")
    latencies = [(starts[mid] - t0) * 1000 for mid, t0 in sent.items()]

    url, arn = queue(sqs, "bench-throughput")
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="bench", BatchSize=10)
    t0 = time.perf_counter()
    send_batches(sqs, url, THROUGHPUT_MESSAGES)
    while not drained(sqs, url):
        time.sleep(0.02)
    rate = THROUGHPUT_MESSAGES / (time.perf_counter() - t0)
    return latencies, rate


def reference_figures(aws) -> tuple[list[float], float]:
    """A plain consumer thread: long-poll ReceiveMessage, delete, stamp the receive time."""
    sqs = aws("sqs")
    consumer_sqs = aws("sqs")
    received: dict[str, float] = {}
    stop = threading.Event()

    def consume(url: str) -> None:
        while not stop.is_set():
            msgs = consumer_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=1).get("Messages", [])
            now = time.time()
            for m in msgs:
                received[m["MessageId"]] = now
            if msgs:
                consumer_sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])

    url, _ = queue(sqs, "reference-latency")
    worker = threading.Thread(target=consume, args=(url,), daemon=True)
    worker.start()
    sent = {}
    for i in range(LATENCY_MESSAGES):
        t0 = time.time()
        sent[sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"probe": i}))["MessageId"]] = t0
        time.sleep(GAP)
    while len(received) < len(sent):
        time.sleep(0.05)
    latencies = [(received[mid] - t0) * 1000 for mid, t0 in sent.items()]
    stop.set()
    worker.join()

    url, _ = queue(sqs, "reference-throughput")
    stop.clear()
    workers = [threading.Thread(target=consume, args=(url,), daemon=True) for _ in range(2)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    send_batches(sqs, url, THROUGHPUT_MESSAGES)
    while not drained(sqs, url):
        time.sleep(0.02)
    rate = THROUGHPUT_MESSAGES / (time.perf_counter() - t0)
    stop.set()
    for w in workers:
        w.join()
    return latencies, rate


def main() -> None:
    import edalab
    from edalab.stack import Stack, free_port

    with tempfile.TemporaryDirectory() as home:
        stack = Stack(home=home, aws_port=free_port(), kafka_port=free_port())
        os.environ.update(EDALAB_HOME=home, EDALAB_AWS_PORT=str(stack.aws_port),
                          EDALAB_KAFKA_PORT=str(stack.kafka_port))
        stack.up(say=lambda *_: None)
        try:
            aws = lambda service: edalab.client(service, account_id="210987654321")  # noqa: E731
            lat, rate = lambda_figures(aws)
            ref_lat, ref_rate = reference_figures(aws)
        finally:
            stack.down(say=lambda *_: None)
    p50, p95 = percentile(lat, 0.5), percentile(lat, 0.95)
    r50, r95 = percentile(ref_lat, 0.5), percentile(ref_lat, 0.95)
    print(f"SQS -> Lambda, send_message -> handler start over {len(lat)} messages: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(lat):.1f} ms; target p50 <= 50 ms")
    print(f"reference, send_message -> plain consumer's receive: p50 {r50:.1f} ms, p95 {r95:.1f} ms; "
          f"ratio lambda/reference p50 {p50 / r50:.2f}x")
    print(f"throughput through the event source mapping ({THROUGHPUT_MESSAGES} messages, batches of 10): "
          f"{rate:.0f} msgs/s")
    print(f"reference, 2 plain consumer threads: {ref_rate:.0f} msgs/s; ratio lambda/reference "
          f"{rate / ref_rate:.2f}x")
    print(f"(mean send->start {statistics.mean(lat):.1f} ms)")


if __name__ == "__main__":
    main()
