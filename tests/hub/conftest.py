"""The class hub fixture (``hub_helpers.py`` starts and stops it): teardown stops the hub,
which stops every server, and removes what it set up on the host."""

from __future__ import annotations

import pytest
from hub_helpers import hub_unavailable, start_hub, stop_hub, uid_processes


@pytest.fixture(scope="module")
def class_hub(tmp_path_factory, stack):
    """A running class hub with lab06 released (the ``stack`` fixture is the instructor's,
    for grading)."""
    reason = hub_unavailable()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("class")
    hub = start_hub(root, ["lab06_sqs_standard"], root.parent / "hub.log")
    yield hub
    stop_hub(hub)
    for proc in uid_processes(hub.uids):  # nothing of any learner may outlive the hub
        proc.kill()
