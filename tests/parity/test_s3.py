"""S3 behaviours the S3 -> EventBridge notebook cells rely on."""

from __future__ import annotations

import pytest


@pytest.mark.moto_gap("GetBucketNotificationConfiguration leaves EventBridgeConfiguration out")
def test_eventbridge_configuration_is_read_back(aws, unique):
    """AWS GetBucketNotificationConfiguration returns the bucket's NotificationConfiguration,
    whose "EventBridgeConfiguration - Enables delivery of events to Amazon EventBridge." is an
    (empty) member: a notebook checks it to tell whether the bucket already sends its events
    to EventBridge."""
    s3 = aws("s3")
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["EventBridgeConfiguration"] == {}
