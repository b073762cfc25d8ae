"""Lambda on the embedded stack: moto's Lambda API, with handlers that really run.

(Work in progress: the full module replaces this placeholder.)
"""

from __future__ import annotations


def invoke_async(account_id: str, region: str, function_arn: str, event: dict) -> None:
    """Invoke ``function_arn`` with InvocationType=Event semantics (queued, retried twice)."""
    raise NotImplementedError("edalab.aws.lambda_.invoke_async: not wired yet")


def install() -> None:
    pass
