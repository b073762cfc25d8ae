"""Invoke: the handler really runs, with AWS's results, errors, context, logs and limits."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from botocore.exceptions import ClientError


def invoke(lam, name, event=None, **kwargs):
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}),
                          **kwargs)
    response["Body"] = json.loads(response["Payload"].read() or b"null")
    return response


def test_request_response_returns_the_handlers_result(aws, make_function):
    """"For synchronous invocation, details about the function response, including errors, are
    included in the response body and headers." (Invoke API reference)"""
    name = make_function("""
        def lambda_handler(event, context):
            return {"doubled": event["n"] * 2}
    """)
    response = invoke(aws("lambda"), name, {"n": 21})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["Body"] == {"doubled": 42}


def test_unhandled_exception_gives_awss_error_payload(aws, make_function):
    """"If the function returns an error, the response body contains an error object with the
    errorMessage, errorType and stackTrace" and X-Amz-Function-Error is "Unhandled". (Invoke API
    reference / Lambda Python errors)"""
    name = make_function("""
        def lambda_handler(event, context):
            raise ValueError("order 42 has no items")
    """)
    response = invoke(aws("lambda"), name)
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = response["Body"]
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "order 42 has no items"
    assert any("lambda_handler" in frame and 'raise ValueError' in frame for frame in body["stackTrace"])


def test_log_type_tail_returns_the_last_4kb_of_the_log(aws, make_function):
    """"LogType: Set to Tail to include the execution log in the response. Applies to
    synchronously invoked functions only." The log is base64-encoded and holds the last 4 KB.
    (Invoke API reference)"""
    name = make_function("""
        def lambda_handler(event, context):
            print("processing order", event["order"])
            return "ok"
    """)
    response = invoke(aws("lambda"), name, {"order": "o-1"}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "processing order o-1" in tail
    assert "START RequestId:" in tail and "END RequestId:" in tail and "REPORT RequestId:" in tail
    big = make_function("""
        def lambda_handler(event, context):
            for i in range(500):
                print(f"line {i:04d} " + "x" * 40)
    """)
    tail = base64.b64decode(invoke(aws("lambda"), big, LogType="Tail")["LogResult"])
    assert len(tail) <= 4096
    assert b"line 0499" in tail and b"line 0000" not in tail


def test_context_object_fields(aws, make_function, account):
    """The context object: "function_name, function_version, invoked_function_arn,
    memory_limit_in_mb, aws_request_id, log_group_name, log_stream_name" and
    "get_remaining_time_in_millis() - Returns the number of milliseconds left before the
    execution times out." (Lambda context object in Python)"""
    name = make_function("""
        def lambda_handler(event, context):
            return {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "invoked_function_arn": context.invoked_function_arn,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
            }
    """, timeout=7, memory=256)
    response = invoke(aws("lambda"), name, LogType="Tail")
    ctx = response["Body"]
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:{account}:function:{name}"
    assert ctx["memory_limit_in_mb"] == "256"  # a string, as in AWS's runtime
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in ctx["log_stream_name"]
    assert 0 < ctx["remaining"] <= 7000
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {ctx['aws_request_id']} Version: $LATEST" in tail
    streams = aws("logs").describe_log_streams(logGroupName=ctx["log_group_name"])["logStreams"]
    assert ctx["log_stream_name"] in [s["logStreamName"] for s in streams]


def test_environment_variables_and_code_updates(aws, make_function):
    """"You can use environment variables to adjust your function's behavior without updating
    code." UpdateFunctionCode: "Updates a Lambda function's code." (Lambda developer guide, API)"""
    from edalab import zip_handler

    lam = aws("lambda")
    name = make_function("""
        import os
        def lambda_handler(event, context):
            return {"v": 1, "greeting": os.environ["GREETING"], "region": os.environ["AWS_REGION"]}
    """, env={"GREETING": "hello"})
    assert invoke(lam, name)["Body"] == {"v": 1, "greeting": "hello", "region": "us-east-1"}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "hi"}})
    assert invoke(lam, name)["Body"]["greeting"] == "hi"
    lam.update_function_code(FunctionName=name, ZipFile=zip_handler("""
        def lambda_handler(event, context):
            return {"v": 2}
    """))
    assert invoke(lam, name)["Body"] == {"v": 2}


def test_warm_start_keeps_module_state(aws, make_function):
    """"The execution environment is reused for subsequent invocations ... objects declared
    outside of the function's handler method remain initialized." (Lambda execution environment)"""
    name = make_function("""
        calls = 0
        def lambda_handler(event, context):
            global calls
            calls += 1
            return calls
    """)
    lam = aws("lambda")
    assert [invoke(lam, name)["Body"] for _ in range(3)] == [1, 2, 3]


def test_timeout_reports_task_timed_out(aws, make_function, log_messages):
    """"Task timed out after 1.00 seconds": past its timeout the invocation is stopped and
    reported as an error. (Lambda troubleshooting: invocation timeouts)"""
    lam = aws("lambda")
    name = make_function("""
        import time
        def lambda_handler(event, context):
            if event.get("sleep"):
                print("sleeping")
                time.sleep(30)
            return "done"
    """, timeout=1)
    response = invoke(lam, name, {"sleep": True})
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in response["Body"]["errorMessage"]
    messages = log_messages(name)
    assert "sleeping" in messages
    assert any("Task timed out after 1.00 seconds" in m for m in messages)
    assert any(m.startswith("REPORT") and "Status: timeout" in m for m in messages)
    assert invoke(lam, name)["Body"] == "done"  # a fresh environment serves the next call


def test_print_and_logging_reach_cloudwatch_logs(aws, make_function, log_messages):
    """"Lambda automatically captures all output to stdout and stderr and sends it to CloudWatch
    Logs", log group /aws/lambda/<function name>, with START, END and REPORT lines for each
    invocation. (Lambda Python logging)"""
    name = make_function("""
        import logging, sys
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        def lambda_handler(event, context):
            print("printed", event["id"])
            print("to stderr", file=sys.stderr)
            logger.info("logged %s", event["id"])
            return None
    """)
    invoke(aws("lambda"), name, {"id": "e-7"})
    messages = log_messages(name)
    start = next(i for i, m in enumerate(messages) if m.startswith("START RequestId:"))
    assert messages.index("printed e-7") > start
    assert "to stderr" in messages
    logged = next(m for m in messages if m.endswith("logged e-7"))
    level, stamp, request_id, text = logged.split("\t")
    assert level == "[INFO]" and stamp.endswith("Z") and request_id in messages[start]
    assert messages[-2].startswith("END RequestId:")
    report = messages[-1]
    assert report.startswith("REPORT RequestId:")
    for field in ("Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:"):
        assert field in report


def test_handler_boto3_reaches_the_same_account(aws, make_function, unique, role):
    """Handlers call AWS with the SDK and their execution role's account: "Lambda ... runs your
    function code securely" with credentials in "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN". (Lambda environment variables) - here: the same emulator, same account."""
    sqs = aws("sqs")
    mine = unique("mine")
    sqs.create_queue(QueueName=mine)
    aws("iam").put_role_policy(  # what the handler does, its execution role must allow
        RoleName=role.rsplit("/", 1)[1], PolicyName="sqs", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*",
                                                     "Resource": "*"}]}))
    name = make_function("""
        import boto3
        sqs = boto3.client("sqs")
        def lambda_handler(event, context):
            url = sqs.create_queue(QueueName=event["create"])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="from the handler")
            return [u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"]]
    """)
    created = unique("created")
    seen = invoke(aws("lambda"), name, {"create": created})["Body"]
    assert mine in seen
    url = sqs.get_queue_url(QueueName=created)["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "from the handler"


def test_handlers_run_concurrently(aws, make_function):
    """"Concurrency is the number of in-flight requests that your Lambda function is handling
    at the same time. For each concurrent request, Lambda provisions a separate instance of your
    execution environment." (Lambda function scaling)"""
    name = make_function("""
        import time
        def lambda_handler(event, context):
            start = time.time()
            time.sleep(1.5)
            return {"start": start, "end": time.time(), "stream": context.log_stream_name}
    """, timeout=10)
    lam = aws("lambda")
    out = []
    threads = [threading.Thread(target=lambda: out.append(invoke(lam, name)["Body"])) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3
    assert len({r["stream"] for r in out}) == 3  # three execution environments
    assert max(r["start"] for r in out) < min(r["end"] for r in out)  # all in flight together


def test_crash_hang_and_memory_hog_do_not_take_the_stack_down(aws, make_function, unique):
    """A crash ends the execution environment, not the service: "Runtime exited with error:
    exit status 1" / "signal: killed" with errorType Runtime.ExitError, and a function that
    uses more than its memory size is stopped. (Lambda troubleshooting)"""
    lam = aws("lambda")
    crash = make_function("""
        import os
        def lambda_handler(event, context):
            os._exit(1)
    """)
    body = invoke(lam, crash)["Body"]
    assert body["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 1" in body["errorMessage"]

    hog = make_function("""
        def lambda_handler(event, context):
            blocks = []
            while True:
                blocks.append(bytearray(16 * 1024 * 1024))
    """, memory=128, timeout=30)
    response = invoke(lam, hog)
    assert response["FunctionError"] == "Unhandled"
    assert "signal: killed" in response["Body"]["errorMessage"]

    hang = make_function("""
        def lambda_handler(event, context):
            while True:
                pass
    """, timeout=3)
    hung = threading.Thread(target=lambda: invoke(lam, hang))
    hung.start()
    ok = make_function("def lambda_handler(event, context):\n    return 'alive'\n")
    assert invoke(lam, ok)["Body"] == "alive"   # answered while the other one spins
    aws("sqs").create_queue(QueueName=unique("still-up"))
    hung.join()


@pytest.mark.parametrize("source, handler, error_type, message", [
    ("def lambda_handler(e, c):\n    return 1\n", "nosuchmodule.lambda_handler",
     "Runtime.ImportModuleError", "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"),
    ("def lambda_handler(e, c):\n    return 1\n", "handler.handle",
     "Runtime.HandlerNotFound", "Handler 'handle' missing on module 'handler'"),
    ("def lambda_handler(e, c)\n    return 1\n", "handler.lambda_handler",
     "Runtime.UserCodeSyntaxError", "Syntax error in module 'handler'"),
    ("def lambda_handler(e, c):\n    return {'ids': {1, 2}}\n", "handler.lambda_handler",
     "Runtime.MarshalError", "Unable to marshal response: Object of type set is not JSON serializable"),
    ("import missing_dependency\ndef lambda_handler(e, c):\n    return 1\n", "handler.lambda_handler",
     "Runtime.ImportModuleError", "Unable to import module 'handler': No module named 'missing_dependency'"),
])
def test_bad_code_gets_the_runtimes_error(aws, make_function, log_messages, source, handler,
                                         error_type, message):
    """The Python runtime's init and marshalling errors: "Runtime.ImportModuleError",
    "Runtime.HandlerNotFound", "Runtime.UserCodeSyntaxError", "Runtime.MarshalError".
    (Lambda troubleshooting: execution errors)"""
    name = make_function(source, handler=handler)
    response = invoke(aws("lambda"), name)
    assert response["FunctionError"] == "Unhandled"
    assert response["Body"]["errorType"] == error_type
    assert message in response["Body"]["errorMessage"]
    assert any(m.startswith(f"[ERROR] {error_type}") for m in log_messages(name))


def test_oversized_and_invalid_requests_are_refused(aws, make_function, role):
    """"For synchronous invocations, the maximum payload size is 6 MB. For asynchronous
    invocations, the maximum payload size is 1 MB." RequestEntityTooLargeException (HTTP 413):
    "The request payload exceeded the Invoke request body JSON input quota." (Invoke API)"""
    lam = aws("lambda")
    name = make_function("def lambda_handler(e, c):\n    return len(e['blob'])\n")
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=json.dumps({"blob": "x" * (6 * 1024 * 1024)}))
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, InvocationType="Event",
                   Payload=json.dumps({"blob": "x" * (1024 * 1024)}))
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert invoke(lam, name, {"blob": "x" * (5 * 1024 * 1024)})["Body"] == 5 * 1024 * 1024
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=b"{not json")
    assert err.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as err:
        lam.create_function(FunctionName="broken-zip", Runtime="python3.12", Role=role,
                            Handler="handler.lambda_handler", Code={"ZipFile": b"not a zip"})
    assert "Could not unzip uploaded file" in str(err.value)
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name,
                                          Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    assert "Reserved keys used in this request: AWS_REGION" in str(err.value)


def test_event_invocation_is_queued_and_retried_twice(aws, make_function, results, unique, wait,
                                                      role):
    """"Lambda places the event in a queue and returns a success response" (202); "If the
    function returns an error, by default Lambda attempts to run it two more times" and then
    sends the event to the OnFailure destination with condition RetriesExhausted.
    (Lambda asynchronous invocation; retry delays shortened by the edalab tag)"""
    lam, sqs = aws("lambda"), aws("sqs")
    failures = sqs.create_queue(QueueName=unique("on-failure"))["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    name = make_function("""
        import json
        def lambda_handler(event, context):
            print("RESULT " + json.dumps({"id": context.aws_request_id, "event": event}))
            raise RuntimeError("payment service down")
    """, tags={"edalab:async-retry-delays": "0.2,0.2"})
    aws("iam").put_role_policy(  # Lambda sends the record with the function's execution role
        RoleName=role.rsplit("/", 1)[1], PolicyName="on-failure", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                     "Resource": failures_arn}]}))
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": failures_arn}})
    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 7}')
    assert response["StatusCode"] == 202
    attempts = wait(lambda: len(results(name)) == 3 and results(name), what="three attempts")
    assert {a["id"] for a in attempts} == {attempts[0]["id"]}  # one request id, retried
    record = json.loads(wait(lambda: sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=1)
                             .get("Messages"), what="OnFailure record")[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "payment service down"


def test_event_invocation_honours_maximum_retry_attempts(aws, make_function, results, wait):
    """"MaximumRetryAttempts - The maximum number of times to retry when the function returns
    an error." (PutFunctionEventInvokeConfig)"""
    lam = aws("lambda")
    name = make_function("""
        def lambda_handler(event, context):
            print("RESULT 1")
            raise RuntimeError("no")
    """, tags={"edalab:async-retry-delays": "0.1"})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    wait(lambda: results(name), what="the first attempt")
    ok = make_function("def lambda_handler(e, c):\n    print('RESULT 2')\n")
    lam.invoke(FunctionName=ok, InvocationType="Event", Payload=b"{}")
    wait(lambda: results(ok), what="a later invocation")  # by now a retry would have run
    assert results(name) == [1]


def test_dry_run_validates_without_running(aws, make_function, log_messages):
    """"DryRun - Validate parameter values and verify that the user or role has permission to
    invoke the function." (Invoke API)"""
    name = make_function("def lambda_handler(e, c):\n    print('ran')\n")
    response = aws("lambda").invoke(FunctionName=name, InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert log_messages(name) == []


def test_reserved_concurrency_zero_throttles(aws, make_function):
    """"If you set reserved concurrency to zero, Lambda throttles all invocations of the
    function"; a throttled synchronous invocation is TooManyRequestsException (HTTP 429).
    (Configuring reserved concurrency; Invoke API errors)"""
    lam = aws("lambda")
    name = make_function("def lambda_handler(e, c):\n    return 'ran'\n")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name)["Body"] == "ran"


def test_published_versions_keep_their_code(aws, make_function):
    """"Lambda creates a new version of your function each time that you publish the function.
    The new version is a copy of the unpublished version of the function." A qualified
    invocation runs that version. (Lambda function versions)"""
    from edalab import zip_handler

    lam = aws("lambda")
    name = make_function("def lambda_handler(e, c):\n    return ['v1', c.function_version, c.invoked_function_arn]\n")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=zip_handler(
        "def lambda_handler(e, c):\n    return ['latest', c.function_version]\n"))
    body = invoke(lam, name, Qualifier=version)["Body"]
    assert body[:2] == ["v1", version] and body[2].endswith(f":{name}:{version}")
    assert invoke(lam, name)["Body"] == ["latest", "$LATEST"]


def test_a_recreated_function_starts_cold(aws, make_function):
    """Deleting a function deletes its execution environments: a function created again under
    the same name does not see the old one's module state. (Lambda execution environment
    lifecycle: Shutdown)"""
    source = "calls = []\ndef lambda_handler(e, c):\n    calls.append(1)\n    return len(calls)\n"
    lam = aws("lambda")
    name = make_function(source)
    assert [invoke(lam, name)["Body"] for _ in range(2)] == [1, 2]
    lam.delete_function(FunctionName=name)
    make_function(source, name=name)
    assert invoke(lam, name)["Body"] == 1


def test_deprecated_invoke_async_api_queues_the_event(aws, make_function, results, wait):
    """InvokeAsync (deprecated) "Invokes a function asynchronously"; "The payload limit is
    256KB. For larger payloads, for up to 1MB, use Invoke." (InvokeAsync API)"""
    lam = aws("lambda")
    name = make_function("import json\ndef lambda_handler(e, c):\n    print('RESULT ' + json.dumps(e))\n")
    assert lam.invoke_async(FunctionName=name, InvokeArgs=b'{"legacy": true}')["Status"] == 202
    assert wait(lambda: results(name), what="the queued event") == [{"legacy": True}]
    with pytest.raises(ClientError) as err:
        lam.invoke_async(FunctionName=name, InvokeArgs=json.dumps({"x": "y" * 300_000}).encode())
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"


def test_destination_is_sent_with_the_execution_role(aws, make_function, unique, wait, role):
    """"Lambda uses the function's execution role to send the invocation record to the
    destination": without ``sqs:SendMessage`` on the queue the OnSuccess record is not sent;
    with it, it is. (Lambda asynchronous invocation, destinations; IAM enforced)"""
    import time

    lam, sqs = aws("lambda"), aws("sqs")
    url = sqs.create_queue(QueueName=unique("on-success"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = make_function("def lambda_handler(event, context):\n    return event\n")
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    time.sleep(3)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
    aws("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyName="on-success", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                                                     "Resource": arn}]}))
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')
    got = wait(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
               what="the OnSuccess record")
    assert [json.loads(m["Body"])["requestPayload"] for m in got] == [{"n": 2}]
