"""A class on one machine: spawn time and memory per learner on the class hub, and the
largest class that fits one 24 GB, 2-core machine.

Starts a real hub (as the tests do: free ports, its own namespaces and uids), spawns
``--learners`` servers one after another through the REST API and times each from the
request to a ready server with a healthy stack; then runs one cell in a kernel per learner
that uses the stack (a queue, a Kafka message) and sums the proportional memory (PSS) of
each learner's processes: sandbox, server, kernel, emulator, broker. The reference, measured
in the same run: a bare ``jupyter server`` (no hub, sandbox or stack) started and given one
kernel. Targets: spawn <= 10 s, >= 50 learners on one machine.

    sudo .venv/bin/python bench/hub.py [--learners 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "hub"))

from hub_helpers import hub_unavailable, start_hub, stop_hub, uid_processes  # noqa: E402

from edalab.stack import free_port  # noqa: E402

MACHINE_BYTES = 24 * 1024**3
MACHINE_CORES = 2
OS_RESERVE = 2 * 1024**3  # the system, page cache for the venv, a margin
CELL = """
import edalab
from confluent_kafka import Producer
q = edalab.client("sqs").create_queue(QueueName="bench")["QueueUrl"]
edalab.client("sqs").send_message(QueueUrl=q, MessageBody="x")
p = Producer(edalab.kafka_config()); p.produce(edalab.topic("bench"), b"x"); p.flush(10)
print("ok")
"""


def pss(procs: list[psutil.Process]) -> int:
    total = 0
    for proc in procs:
        try:
            total += proc.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def with_wrappers(procs: list[psutil.Process], stop_at: int) -> list[psutil.Process]:
    """The learner's processes plus the root-owned bwrap wrappers above them."""
    out = {p.pid: p for p in procs}
    for proc in procs:
        try:
            for parent in proc.parents():
                if parent.pid == stop_at or parent.pid == 1:
                    break
                out[parent.pid] = parent
        except psutil.Error:
            pass
    return list(out.values())


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def reference(tmp: Path) -> tuple[float, int]:
    """A bare Jupyter server: seconds to answer its API, then PSS with one kernel."""
    port, token = free_port(), "bench"
    cmd = [sys.executable, "-m", "jupyter_server", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False", "--allow-root",
           f"--ServerApp.root_dir={tmp}"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        while True:
            try:
                if requests.get(f"{base}/api", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() - t0 > 120:
                raise RuntimeError("the reference server did not start")
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        kernel = requests.post(f"{base}/api/kernels", json={"name": "python3"}, headers=headers).json()
        time.sleep(3)
        server = psutil.Process(proc.pid)
        memory = pss([server, *server.children(recursive=True)])
        requests.delete(f"{base}/api/kernels/{kernel['id']}", headers=headers)
        return seconds, memory
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=3)
    args = parser.parse_args()
    reason = hub_unavailable()
    if reason:
        print(f"skipped: {reason}")
        return 0
    names = [f"learner{i:02d}" for i in range(1, args.learners + 1)]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="edalab-hub-bench-") as tmp:
        tmp = Path(tmp)
        ref_times, ref_mems = zip(*(reference(tmp) for _ in range(2)))
        hub = start_hub(tmp / "class", labs=[], log=tmp / "hub.log")
        try:
            api = hub.api
            api.create_users(names)
            spawn = []
            for name in names:
                t0 = time.monotonic()
                api.spawn(name)
                api.wait_ready(name)
                spawn.append(time.monotonic() - t0)
            kernels = [api.server(n).kernel() for n in names]
            for kernel in kernels:
                out = kernel.execute(CELL)
                assert out["status"] == "ok", out
            time.sleep(3)
            hub_procs = [psutil.Process(hub.proc.pid), *psutil.Process(hub.proc.pid).children()]
            hub_procs = [p for p in hub_procs if "bwrap" not in p.name() and "nsenter" not in p.name()]
            per_learner, idle_cpu = [], []
            for i, name in enumerate(names):
                uid = _uid(hub, name)
                procs = with_wrappers(uid_processes(range(uid, uid + 1)), hub.proc.pid)
                per_learner.append(pss(procs))
                before = cpu_seconds(procs)
                time.sleep(10 if i == 0 else 0)
                if i == 0:
                    idle_cpu.append((cpu_seconds(procs) - before) / 10)
            for kernel in kernels:
                kernel.close()
            overhead = pss(hub_procs)
        finally:
            stop_hub(hub)
    learner = statistics.median(per_learner)
    by_memory = int((MACHINE_BYTES - OS_RESERVE - overhead) // learner)
    by_cpu = int(MACHINE_CORES / max(idle_cpu[0], 1e-3))
    ref_time, ref_mem = statistics.median(ref_times), statistics.median(ref_mems)
    mib = 1024**2
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
          f"(times and their ratio are only comparable on an otherwise idle machine)")
    print(f"reference: bare jupyter server ready in {ref_time:.2f} s, {ref_mem / mib:.0f} MiB with one kernel")
    print(f"spawn to a ready server with a healthy stack: median {statistics.median(spawn):.2f} s "
          f"(each: {', '.join(f'{s:.1f}' for s in spawn)}); ratio to the reference "
          f"{statistics.median(spawn) / ref_time:.2f}x   target <= 10 s")
    print(f"memory per learner (PSS: sandbox, server, one kernel, emulator, broker): "
          f"{learner / mib:.0f} MiB; ratio to the reference {learner / ref_mem:.2f}x")
    print(f"hub + proxy + culler: {overhead / mib:.0f} MiB;  an idle learner uses "
          f"{100 * idle_cpu[0]:.1f}% of a core")
    print(f"largest class on {MACHINE_BYTES // 1024**3} GiB, {MACHINE_CORES} cores: {min(by_memory, by_cpu)} "
          f"learners (memory allows {by_memory}, idle CPU {by_cpu}; {OS_RESERVE // 1024**3} GiB "
          f"kept for the system)   target >= 50")
    return 0


def _uid(hub, name: str) -> int:
    import sqlite3

    with sqlite3.connect(hub.root / "jupyterhub.sqlite") as db:
        return hub.uids.start + db.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
