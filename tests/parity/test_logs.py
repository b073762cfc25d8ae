"""CloudWatch Logs behaviours the Lambda notebooks and labs rely on when they read a log back."""

from __future__ import annotations

import time

import pytest


@pytest.mark.moto_gap("FilterLogEvents returns stream after stream unless interleaved=True")
def test_filter_log_events_interleaves_streams_by_time(aws, unique):
    """AWS FilterLogEvents, ``interleaved``: "As of June 17, 2019, this parameter is ignored and
    the value is assumed to be true. The response from this operation always interleaves
    events from multiple log streams within a log group." A Lambda function writes one stream
    per execution environment, so this is what keeps its log in time order."""
    logs = aws("logs")
    now = int(time.time() * 1000)  # AWS refuses events older than 14 days
    group = f"/aws/lambda/{unique('fn')}"
    logs.create_log_group(logGroupName=group)
    # Stream "b" is created first (listed first), but "a" holds the earlier events.
    for stream in ("b-env", "a-env"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName="b-env",
                        logEvents=[{"timestamp": now + 1, "message": "second"},
                                   {"timestamp": now + 3, "message": "fourth"}])
    logs.put_log_events(logGroupName=group, logStreamName="a-env",
                        logEvents=[{"timestamp": now + 0, "message": "first"},
                                   {"timestamp": now + 2, "message": "third"}])
    events = logs.filter_log_events(logGroupName=group)["events"]
    assert [e["message"] for e in events] == ["first", "second", "third", "fourth"]
