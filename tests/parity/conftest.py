"""Every parity test runs twice: on the embedded stack (moto + edalab's extensions, in its own
process) and on a plain moto server started here, in the test process, with nothing patched.

A behaviour moto already gets right passes on both. A gap closed in ``edalab/aws/`` is marked
``@pytest.mark.moto_gap("what moto does")``: its plain-moto run is an xfail(strict=True), so
the suite shows the gap still exists upstream and is closed here; the day moto fixes it, the
strict xfail turns red and the extension can go.

A third backend, **localstack**, joins when ``EDALAB_PARITY_LOCALSTACK`` names a LocalStack
endpoint (``make test-localstack`` starts one and sets it). Its runs record what LocalStack
does, for the LocalStack column of docs/aws-parity.md: no xfail marks, and with
``EDALAB_PARITY_REPORT`` set each outcome is written to that JSON file
(``tests/localstack/parity_column.py`` turns it into the column). Without the variable the
suite is exactly the two-backend one.

This module must never import ``edalab.aws``: the extensions patch moto's classes, and the
plain server shares this process's moto.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from edalab.stack import free_port  # edalab.stack never imports edalab.aws

BACKENDS = ("embedded", "moto", "localstack")
LOCALSTACK = os.environ.get("EDALAB_PARITY_LOCALSTACK", "").rstrip("/")


def active_backends() -> tuple[str, ...]:
    """The backends this run tests: LocalStack only when its endpoint is given."""
    return tuple(b for b in BACKENDS if b != "localstack" or LOCALSTACK)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "moto_gap(reason): plain moto 5.2.5 gets this AWS behaviour wrong "
        "(its plain-moto run is a strict xfail)")


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    gap = metafunc.definition.get_closest_marker("moto_gap")
    params = []
    for name in active_backends():
        marks = ()
        if name == "moto" and gap is not None:
            marks = (pytest.mark.xfail(strict=True, reason=f"moto 5.2.5 gap: {gap.args[0]}"),)
        params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture(scope="session")
def plain_moto():
    """A plain moto server on a free loopback port: upstream behaviour, no extensions."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Backend:
    """Where a parity test sends its requests, scoped to one fresh account."""

    name: str
    endpoint: str
    account: str
    region: str = "us-east-1"

    def client(self, service: str):
        import edalab
        from edalab.target import Target

        target = Target("embedded", self.endpoint, "127.0.0.1:9", self.region, self.account)
        return edalab.client(service, account_id=self.account, target=target)


@pytest.fixture
def backend(request):
    if request.param == "embedded":
        stack = request.getfixturevalue("stack")
        endpoint = f"http://127.0.0.1:{stack.aws_port}"
    elif request.param == "localstack":
        endpoint = LOCALSTACK  # accounts: LocalStack takes the 12-digit access key id
    else:
        endpoint = request.getfixturevalue("plain_moto")
    account = str(100000000000 + uuid.uuid4().int % 899999999999)
    return Backend(request.param, endpoint, account)


@pytest.fixture
def aws(backend):
    """``aws("sqs")`` -> a boto3 client for the backend under test, in the test's own account."""
    return backend.client


_outcomes: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    """Record each LocalStack run (``EDALAB_PARITY_REPORT``): test name -> outcome, first line."""
    params = report.nodeid.partition("[")[2].rstrip("]").split("-")
    if not os.environ.get("EDALAB_PARITY_REPORT") or "localstack" not in params:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    name = report.nodeid.split("::")[-1].split("[")[0]
    detail = ""
    if report.failed and report.longrepr is not None:
        crash = getattr(report.longrepr, "reprcrash", None)
        detail = (crash.message if crash else str(report.longrepr)).strip().splitlines()[0][:300]
    if _outcomes.get(name, {}).get("outcome") == "failed":
        return  # a parametrized test: one failed case decides
    _outcomes[name] = {"outcome": report.outcome, "detail": detail,
                       "file": report.nodeid.split("::")[0].rsplit("/", 1)[-1]}


def pytest_sessionfinish(session):
    path = os.environ.get("EDALAB_PARITY_REPORT")
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller sees every report and writes the file
    if path and _outcomes:
        Path(path).write_text(json.dumps(_outcomes, indent=1, sort_keys=True))
