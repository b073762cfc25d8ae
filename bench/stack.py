"""Cold start and idle memory of the embedded stack, against ministack measured in the same run.

Prints, each the median of 5 runs:

* cold `edalab up` until both services (AWS emulator and Kafka broker) answer a real request,
  and the idle RSS of the whole stack (targets: <= 1.5 s, <= 150 MB); reference: a bare
  `python -c "import boto3"` (what any AWS notebook pays anyway);
* the AWS emulator alone (`python -m edalab.server`) against ministack 1.5.33, the free peer
  emulator, each started the same way: process start until an SQS ListQueues answers, and the
  idle RSS 2 s later. Target: at or below ministack on both.

ministack is installed into a throw-away virtual environment created here (it pins its own
botocore; it never enters the project's requirements). Without network access to the package
index the comparison is skipped and says so.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

from edalab.stack import free_port

RUNS = 5
MINISTACK = "ministack==1.5.33"


def edalab(args, env):
    return subprocess.run([sys.executable, "-m", "edalab", *args], env=env, check=True,
                          capture_output=True, text=True)


def tree_rss(pid: int) -> float:
    proc = psutil.Process(pid)
    return (proc.memory_info().rss
            + sum(c.memory_info().rss for c in proc.children(recursive=True))) / 2**20


def stack_rss(home: str) -> float:
    import json

    state = json.loads(open(os.path.join(home, "stack.json")).read())
    return sum(tree_rss(info["pid"]) for info in state["services"].values())


def first_answer(endpoint: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Poll until an SQS ListQueues answers (a real request, not a health route)."""
    import boto3
    from botocore.config import Config

    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(retries={"max_attempts": 0}, connect_timeout=0.5,
                                     read_timeout=5))
    deadline = time.monotonic() + timeout
    while True:
        try:
            sqs.list_queues()
            return
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{endpoint} never answered (exit code {proc.poll()})")
            time.sleep(0.01)


def measure(argv: list[str], env: dict, port: int) -> tuple[float, float]:
    """(seconds from spawn to first answer, idle RSS in MiB 2 s later) of one emulator run."""
    import boto3  # noqa: F401  (imported before the clock starts, for both emulators)

    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        first_answer(f"http://127.0.0.1:{port}", proc)
        started = time.perf_counter() - t0
        time.sleep(2.0)
        return started, tree_rss(proc.pid)
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.terminate()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def ministack_python(where: str) -> str | None:
    """A throw-away venv with ministack in it; None if it cannot be installed."""
    venv = os.path.join(where, "ministack-venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
    python = os.path.join(venv, "bin", "python")
    got = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          MINISTACK], capture_output=True, text=True)
    if got.returncode != 0:
        print(f"ministack: not measured ({MINISTACK} could not be installed: "
              f"{(got.stderr or got.stdout).strip().splitlines()[-1:]})")
        return None
    return python


def compare_with_ministack() -> None:
    where = tempfile.mkdtemp(prefix="edalab-bench-")
    try:
        python = ministack_python(where)
        ours, theirs = [], []
        for _ in range(RUNS):
            port = free_port()
            ours.append(measure([sys.executable, "-m", "edalab.server", "--port", str(port)],
                                {**os.environ, "EDALAB_HOME": where}, port))
            if python:
                port = free_port()
                theirs.append(measure([python, "-m", "ministack"],
                                      {**os.environ, "GATEWAY_PORT": str(port),
                                       "BIND_HOST": "127.0.0.1", "TMPDIR": where}, port))
        start = statistics.median(s for s, _ in ours)
        rss = statistics.median(r for _, r in ours)
        print(f"AWS emulator alone, spawn -> first SQS answer: median {start:.2f} s; "
              f"idle RSS {rss:.0f} MiB")
        if theirs:
            ref_start = statistics.median(s for s, _ in theirs)
            ref_rss = statistics.median(r for _, r in theirs)
            print(f"ministack 1.5.33, same measure:               median {ref_start:.2f} s; "
                  f"idle RSS {ref_rss:.0f} MiB")
            print(f"ratio embedded/ministack: cold start {start / ref_start:.2f}x, "
                  f"idle RSS {rss / ref_rss:.2f}x (target <= 1.00x on both)")
    finally:
        shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    starts, rss = [], []
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "EDALAB_HOME": home, "EDALAB_AWS_PORT": str(free_port()),
               "EDALAB_KAFKA_PORT": str(free_port())}
        for i in range(RUNS):
            t0 = time.perf_counter()
            edalab(["up"], env)
            starts.append(time.perf_counter() - t0)
            time.sleep(2.0)  # idle
            rss.append(stack_rss(home))
            edalab(["down"], env)
    refs = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import boto3"], check=True)
        refs.append(time.perf_counter() - t0)
    med, ref = statistics.median(starts), statistics.median(refs)
    print(f"cold `edalab up` until healthy: median {med:.2f} s over {RUNS} "
          f"(min {min(starts):.2f}, max {max(starts):.2f}); target <= 1.5 s")
    print(f"idle RSS of the whole stack:    median {statistics.median(rss):.0f} MB; target <= 150 MB")
    print(f"reference `python -c 'import boto3'`: median {ref:.2f} s; ratio up/ref = {med / ref:.1f}x")
    compare_with_ministack()


if __name__ == "__main__":
    main()
