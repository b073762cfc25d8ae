"""A class on a hub, end to end: learners spawned through the hub's REST API each run lab06's
solution in their own kernel on their own stack, submit through nbgrader's exchange, the
instructor collects and autogrades everyone with ``edalab grade``; learners cannot reach
each other's stacks; the idle culler stops a server together with its stack."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from hub_helpers import uid_processes
from edalab.hub import netns

REPO = Path(__file__).resolve().parents[2]
LAB = "lab06_sqs_standard"
COURSE = "edalab"
LEARNERS = [f"learner{i:02d}" for i in range(1, int(os.environ.get("EDALAB_HUB_TEST_LEARNERS", "10")) + 1)]
EDALAB = [str(Path(sys.executable).parent / "edalab")]

pytestmark = [pytest.mark.hub, pytest.mark.slow, pytest.mark.timeout(900)]


def solved(fetched: dict) -> dict:
    """The learner's fetched copy with every answer cell holding the solution (cell ids and
    nbgrader metadata are the fetched copy's, as when a learner types the answers)."""
    source = nbformat.read(REPO / "graders" / "source" / LAB / f"{LAB}.ipynb", 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in fetched["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return fetched


def work_through_lab(hub, name: str) -> list[str]:
    """Fetch, solve, run every code cell in a kernel, submit: what a learner does in the
    Assignments tab and the notebook. Returns the failures (empty when all went well)."""
    server = hub.api.server(name)
    server.fetch(COURSE, LAB)
    path = f"{LAB}/{LAB}.ipynb"
    nb = solved(server.read_notebook(path))
    server.write_notebook(path, nb)
    kernel = server.kernel()
    failures = []
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                out = kernel.execute(cell["source"])
                if out["status"] != "ok":
                    failures.append(f"{name}: {out['error']} in\n{cell['source'][:200]}")
                    break
    finally:
        kernel.close()
    server.submit(COURSE, LAB)
    return failures


PLANT = """
import edalab
from confluent_kafka.admin import AdminClient, NewTopic
edalab.client("sqs").create_queue(QueueName="private-b")
edalab.client("logs").create_log_group(logGroupName="private-b")
admin = AdminClient(edalab.kafka_config())
admin.create_topics([NewTopic("private-b", 1, 1)])["private-b"].result(10)
print("planted")
"""

STILL_THERE = """
import edalab
from confluent_kafka.admin import AdminClient
queues = edalab.client("sqs").list_queues().get("QueueUrls", [])
groups = [g["logGroupName"] for g in edalab.client("logs").describe_log_groups()["logGroups"]]
topics = AdminClient(edalab.kafka_config()).list_topics(timeout=10).topics
assert any(q.endswith("/private-b") for q in queues), queues
assert "private-b" in groups and "private-b" in topics, (groups, list(topics))
print("intact")
"""

ATTACK = """
import json, os, socket, urllib.request
import edalab
from confluent_kafka.admin import AdminClient

found = {}
# 1. The emulator, whatever account id or access key is sent: only this learner's resources.
for account in ("123456789012", "000000000000", "111111111111"):
    sqs = edalab.client("sqs", account_id=account)
    found[f"queues {account}"] = sqs.list_queues().get("QueueUrls", [])
    logs = edalab.client("logs", account_id=account)
    found[f"log groups {account}"] = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
found["topics"] = [t for t in AdminClient(edalab.kafka_config()).list_topics(timeout=10).topics
                   if not t.startswith("__")]
# 2. The admin endpoint resets this learner's own emulator, nobody else's.
urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:4566/moto-api/reset",
                                              data=b"", method="POST"), timeout=10).read()
# 3. Direct sockets to the other learner's address: stack, broker, server.
def reach(host, port):
    try:
        with socket.create_connection((host, port), timeout=3):
            return "connected"
    except OSError as exc:
        return type(exc).__name__
found["sockets"] = {port: reach(OTHER_IP, port) for port in (4566, 9092, 8888)}
# 4. Their files, processes and namespaces.
found["homes"] = sorted(os.listdir("/home"))
found["other home"] = os.path.exists(f"/home/{OTHER}")
found["class folder"] = os.path.exists(CLASS_DIR + "/home")
found["solutions"] = os.path.exists(REPO + "/graders/source")
found["netns"] = os.path.exists("/run/netns")
found["uids"] = sorted({os.stat(f"/proc/{p}").st_uid for p in os.listdir("/proc") if p.isdigit()})
# 5. The hub's API with this learner's own token: not the other learner's server.
hub_api = os.environ["JUPYTERHUB_API_URL"]
req = urllib.request.Request(f"{hub_api}/users/{OTHER}",
                             headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]})
try:
    urllib.request.urlopen(req, timeout=10)
    found["hub api"] = 200
except urllib.error.HTTPError as exc:
    found["hub api"] = exc.code
print(json.dumps(found))
"""


def run_cell(hub, name: str, code: str) -> str:
    kernel = hub.api.server(name).kernel()
    try:
        out = kernel.execute(code)
    finally:
        kernel.close()
    assert out["status"] == "ok", f"{name}: {out['error']}\n{out['stdout']}"
    return out["stdout"]


def test_a_class_on_the_hub(class_hub, stack):
    hub, api = class_hub, class_hub.api
    api.create_users(LEARNERS)
    for name in ["instructor", *LEARNERS]:  # the hub spawns them concurrently
        api.spawn(name)
    for name in ["instructor", *LEARNERS]:
        api.wait_ready(name, timeout=600)
    # The instructor's server is the course folder with formgrader; the lab is released.
    labs = {a["name"]: a for a in api.server("instructor").call("GET", "/formgrader/api/assignments")}
    assert labs[LAB]["status"] == "released", labs.get(LAB)

    # Every learner works through lab06 in their own kernel, on their own stack, and submits.
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for result in pool.map(lambda n: work_through_lab(hub, n), LEARNERS) for f in result]
    assert not failures, "\n".join(failures)

    # A learner attacks another one's stack; nothing of the other's is visible or changed.
    attacker, victim = LEARNERS[0], LEARNERS[1]
    assert "planted" in run_cell(hub, victim, PLANT)
    victim_ip = hub.addressing.learner_ip(_user_id(hub, victim))
    setup = (f"OTHER = {victim!r}\nOTHER_IP = {victim_ip!r}\nCLASS_DIR = {str(hub.root)!r}\n"
             f"REPO = {str(REPO)!r}\n")
    found = json.loads(run_cell(hub, attacker, setup + ATTACK).strip().splitlines()[-1])
    for key, value in found.items():
        if key.startswith(("queues", "log groups")):
            assert not any("private-b" in v for v in value), (key, value)
    assert "private-b" not in found["topics"]
    assert all(result != "connected" for result in found["sockets"].values()), found["sockets"]
    assert found["homes"] == [attacker] and not found["other home"]
    assert not found["class folder"] and not found["solutions"] and not found["netns"]
    others = [u for u in found["uids"] if u in hub.uids and u != hub.uids.start + _user_id(hub, attacker)]
    assert not others, found["uids"]  # no other learner's process is even visible
    assert found["hub api"] in (403, 404), found["hub api"]
    assert "intact" in run_cell(hub, victim, STILL_THERE)

    # The instructor collects and autogrades the class with `edalab grade`: full marks.
    course = str(hub.root / "course")
    env = dict(os.environ)
    subprocess.run([*EDALAB, "grade", "--course", course, "collect", LAB], check=True, env=env)
    subprocess.run([*EDALAB, "grade", "--course", course, "autograde", LAB, "--workers", "2"],
                   check=True, env=env)
    table = subprocess.run([*EDALAB, "grade", "--course", course, "export", LAB],
                           check=True, env=env, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(io.StringIO(table)))
    assert sorted({r["student"] for r in rows}) == LEARNERS
    lost = [r for r in rows if float(r["score"]) != float(r["max_score"])]
    assert not lost, lost

    # The idle culler stops every idle server; with it go the stack and every process.
    learner_uids = range(hub.uids.start, hub.uids.stop)
    assert any("edalab.server" in " ".join(p.cmdline()) for p in uid_processes(learner_uids))
    culler = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=1", "--cull-every=2",
         f"--url=http://127.0.0.1:{hub.port}/hub/api"],
        env={**os.environ, "JUPYTERHUB_API_TOKEN": hub.token},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api_deadline_wait(api, LEARNERS)
    finally:
        culler.terminate()
        culler.wait(30)
    assert uid_processes(learner_uids) == []
    assert not [n for n in LEARNERS if netns.exists(_user_id(hub, n), hub.tag)]


def _user_id(hub, name: str) -> int:
    """The hub's user id (the spawner's index) - read from the hub's database."""
    import sqlite3

    with sqlite3.connect(hub.root / "jupyterhub.sqlite") as db:
        return db.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()[0]


def api_deadline_wait(api, names: list[str], timeout: float = 180) -> None:
    import time

    deadline = time.monotonic() + timeout
    while any(api.running(n) for n in names):
        assert time.monotonic() < deadline, [n for n in names if api.running(n)]
        time.sleep(1)


def test_generated_accounts_log_in(class_hub):
    """NativeAuthenticator on this JupyterHub: a generated account logs in with its password
    through the login form, a wrong password does not."""
    import requests

    password = json.loads((class_hub.root / "accounts.json").read_text())["instructor"]
    base = f"http://127.0.0.1:{class_hub.port}/hub/login"

    def login(secret: str) -> requests.Response:
        session = requests.Session()
        session.get(base, timeout=30)
        return session.post(base, data={"username": "instructor", "password": secret,
                                        "_xsrf": session.cookies.get("_xsrf")},
                            allow_redirects=False, timeout=30)

    assert login("not-the-password-1").status_code == 200  # the form again, with a message
    accepted = login(password)
    assert accepted.status_code == 302 and "jupyterhub-hub-login" in accepted.cookies
