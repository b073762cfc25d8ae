"""The Lambda functions a notebook deploys: create, read their logs, delete.

Notebooks 05, 06 and 07 each deploy small Python functions and read what they printed from
CloudWatch Logs. The steps are the same each time and say nothing new about the service
being taught, so they live here once; the notebook keeps the handler source and the wiring
(event source mapping, SNS subscription, EventBridge rule) that *is* the lesson.

    kit = LambdaKit(prefix="nb05-")
    arn = kit.deploy("nb05-ship", HANDLER_SOURCE)
    lines = kit.log_lines("nb05-ship", until=lambda ls: any("shipped" in l for l in ls))
    kit.remove_functions()

Everything goes through ``edalab.client``, so the same calls run on the embedded stack,
compose and AWS.
"""

from __future__ import annotations

import time

from .clients import client
from .lambda_zip import ensure_lambda_role, zip_handler


class LambdaKit:
    """Functions whose names start with ``prefix``: the notebook's own, and only those."""

    def __init__(self, prefix: str, runtime: str = "python3.12"):
        self.prefix, self.runtime = prefix, runtime
        self.lam = client("lambda")
        self.logs = client("logs")
        # Lambda refuses a role that does not exist, on AWS and on the emulator; idempotent.
        self.role_arn = ensure_lambda_role(client("iam"))

    def deploy(self, name: str, source: str, timeout: int = 3) -> str:
        """(Re)create a function from handler source; its ARN once it is Active.

        Re-creating (not updating) keeps a re-run of a cell identical to the first run:
        configuration left over from an experiment does not survive.
        """
        try:
            self.lam.delete_function(FunctionName=name)
        except self.lam.exceptions.ResourceNotFoundException:
            pass
        arn = self.lam.create_function(FunctionName=name, Runtime=self.runtime, Role=self.role_arn,
                                       Handler="handler.lambda_handler", Timeout=timeout,
                                       Code={"ZipFile": zip_handler(source)})["FunctionArn"]
        # A new function is Pending until its execution environment is ready (AWS and here).
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        return arn

    def log_lines(self, name: str, until=lambda lines: bool(lines), timeout: float = 30) -> list[str]:
        """The function's CloudWatch Logs lines, polled until ``until(lines)`` holds.

        Logs arrive asynchronously (on AWS seconds after the invocation), so a reader polls
        rather than reading once; after ``timeout`` it returns what it has and lets the
        caller's assert say what is missing.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                pages = self.logs.get_paginator("filter_log_events").paginate(
                    logGroupName=f"/aws/lambda/{name}")
                lines = [e["message"].rstrip() for page in pages for e in page["events"]]
            except self.logs.exceptions.ResourceNotFoundException:
                lines = []
            if until(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.5)

    def remove_functions(self) -> int:
        """Delete the prefix's functions, their event source mappings and log groups.

        Run at the start (leftovers of a run that stopped halfway) and in the clean-up cell;
        on AWS a forgotten mapping keeps polling its queue, and log groups are billed storage.
        """
        removed = 0
        for page in self.lam.get_paginator("list_functions").paginate():
            for fn in page["Functions"]:
                name = fn["FunctionName"]
                if not name.startswith(self.prefix):
                    continue
                for m in self.lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]:
                    self.lam.delete_event_source_mapping(UUID=m["UUID"])
                self.lam.delete_function(FunctionName=name)
                removed += 1
        groups = self.logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{self.prefix}")["logGroups"]
        for group in groups:
            self.logs.delete_log_group(logGroupName=group["logGroupName"])
        return removed
