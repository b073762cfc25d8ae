"""Cold start and idle memory of the embedded stack.

Prints: the median of 5 cold `edalab up` runs until every service answers a real request, and
the idle RSS of the whole stack; targets: median <= 1.5 s, RSS <= 150 MB. The reference in the
same run is a bare `python -c "import boto3"` start (what any AWS notebook pays anyway), so the
ratio says how many "boto3 imports" a stack start costs on this machine, whatever its load.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

from edalab.stack import free_port

RUNS = 5


def edalab(args, env):
    return subprocess.run([sys.executable, "-m", "edalab", *args], env=env, check=True,
                          capture_output=True, text=True)


def stack_rss(home: str) -> float:
    import json

    state = json.loads(open(os.path.join(home, "stack.json")).read())
    total = 0
    for info in state["services"].values():
        proc = psutil.Process(info["pid"])
        total += proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
    return total / 2**20


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


if __name__ == "__main__":
    main()
