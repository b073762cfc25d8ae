"""`make test-localstack`: the course against LocalStack itself, with no Docker.

One LocalStack (host mode, ``servers.py``) and one embedded Kafka broker for the whole run,
on free loopback ports, files in a temporary folder. Against them, with
``EDALAB_TARGET=compose``:

1. notebooks 05-08 and every lab's source notebook (solution and hidden tests), executed with
   nbclient, two at a time; every code cell is counted as passed, skipped for Lambda or for
   the MSK API / permission enforcement (it printed one of ``edalab.capabilities``' lines), a
   known LocalStack difference (``KNOWN``: each documented in docs/aws-parity.md with the AWS
   doc that decides), or failed;
2. the parity suite's LocalStack backend (``EDALAB_PARITY_LOCALSTACK``); its results are the
   LocalStack column of docs/aws-parity.md (``parity_column.py`` prints it; a difference from
   committed column is printed, not failed on: LocalStack's timing is not the build's to judge).

Exits 1 on a failed cell (or LocalStack not starting); 0 with a one-line notice when
LocalStack cannot be had here (no Python 3.13).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import servers  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[5-8]-*.ipynb"))
LABS = sorted((ROOT / "graders" / "source").glob("*/*.ipynb"))
ARTIFACTS = ROOT / "artifacts" / "localstack"
CELL_TIMEOUT = 180
# edalab.capabilities' one-line notices: a cell skipped because the target lacks something.
LAMBDA_MARK = "runs no Lambda functions here"
OTHER_MARKS = ("has no MSK API", "does not enforce permissions")

# Cells that fail on LocalStack for a reason documented in docs/aws-parity.md
# ("LocalStack" section): (notebook or lab name, cell id) -> the difference, in a few words.
KNOWN: dict[tuple[str, str], str] = {
    ("05-sqs", "sqs-defaults"): "SendMessage accepts DelaySeconds above 900",
    ("07-eventbridge", "eb-16"): "StartReplay answers 500 when the archive holds events",
}


# -- one notebook (run in a subprocess of its own) -------------------------------------------
def run_notebook(path: Path, out: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    crashed = ""
    try:
        client.execute()
    except Exception as exc:  # a dead kernel or a cell timeout: the rest of the cells did not run
        crashed = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / path.name)
    name = path.stem
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        outputs = cell.get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        if errors:
            status = "known" if (name, cell.id) in KNOWN else "failed"
            detail = f"{errors[0].get('ename')}: {errors[0].get('evalue', '')}"[:300]
        elif cell.get("execution_count") is None:
            status, detail = "failed", "not run (" + (crashed or "stopped before it") + ")"
        elif LAMBDA_MARK in text:
            status, detail = "lambda", ""
        elif any(mark in text for mark in OTHER_MARKS):
            status, detail = "other", ""
        else:
            status, detail = "passed", ""
        cells.append({"id": cell.id, "status": status, "detail": detail})
    out.write_text(json.dumps({"name": name, "cells": cells, "crashed": crashed}))


def _run_one(path: Path, env: dict, tmp: Path) -> dict:
    out = tmp / f"{path.stem}.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, __file__, "--notebook", str(path), "--out", str(out)],
                          env=env, cwd=path.parent, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        return {"name": path.stem, "cells": [], "crashed": (proc.stderr or proc.stdout)[-2000:],
                "seconds": time.monotonic() - t0}
    result = json.loads(out.read_text())
    result["seconds"] = time.monotonic() - t0
    return result


# -- the whole run ---------------------------------------------------------------------------
def _env(ls: servers.LocalStack, broker: servers.Broker, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "EDALAB_")) or k == "EDALAB_LAMBDA"}
    env.update(EDALAB_TARGET="compose", EDALAB_AWS_PORT=str(ls.port),
               EDALAB_KAFKA_PORT=str(broker.port), EDALAB_HOME=str(tmp / "edalab-home"))
    return env


def _summary(results: list[dict]) -> tuple[str, int]:
    head = (f"{'notebook / lab':<24} {'passed':>6} {'skipped: Lambda':>15} "
            f"{'skipped: MSK/IAM':>16} {'known':>5} {'failed':>6} {'time':>6}")
    lines = [head, "-" * len(head)]
    totals = {"passed": 0, "lambda": 0, "other": 0, "known": 0, "failed": 0}
    details = []
    for r in results:
        counts = {k: sum(c["status"] == k for c in r["cells"]) for k in totals}
        if r.get("crashed") and not r["cells"]:
            counts["failed"] += 1
            details.append(f"  {r['name']}: did not run: {r['crashed'][-500:]}")
        for k in totals:
            totals[k] += counts[k]
        lines.append(f"{r['name']:<24} {counts['passed']:>6} {counts['lambda']:>15} "
                     f"{counts['other']:>16} {counts['known']:>5} {counts['failed']:>6} "
                     f"{r.get('seconds', 0):>5.0f}s")
        for c in r["cells"]:
            if c["status"] == "failed":
                details.append(f"  {r['name']} cell {c['id']}: {c['detail']}")
            elif c["status"] == "known":
                details.append(f"  {r['name']} cell {c['id']} (known, docs/aws-parity.md: "
                               f"{KNOWN[(r['name'], c['id'])]}): {c['detail'][:120]}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<24} {totals['passed']:>6} {totals['lambda']:>15} {totals['other']:>16} "
                 f"{totals['known']:>5} {totals['failed']:>6}")
    lines.append("skipped: the cell printed one line saying the target lacks Lambda (no Docker), "
                 "the MSK API or permission enforcement; known: a LocalStack difference from AWS "
                 "listed in docs/aws-parity.md")
    if details:
        lines += ["", "failed and known cells (executed copies in artifacts/localstack/):", *details]
    return "\n".join(lines), totals


def _start_parity(ls: servers.LocalStack, env: dict, tmp: Path) -> subprocess.Popen:
    """The parity suite's LocalStack backend, in the background while the notebooks run."""
    penv = {**env, "EDALAB_PARITY_LOCALSTACK": ls.endpoint,
            "EDALAB_PARITY_REPORT": str(tmp / "parity.json")}
    for var in ("EDALAB_TARGET", "EDALAB_AWS_PORT", "EDALAB_KAFKA_PORT"):
        penv.pop(var, None)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests/parity", "-q", "-p", "no:cacheprovider",
         "-n", "2", "-k", "localstack and not rate_and_cron"],  # mostly waiting: 2 workers
        env=penv, cwd=ROOT, stdout=open(tmp / "parity.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True)


def _finish_parity(proc: subprocess.Popen, tmp: Path) -> str:
    import parity_column

    proc.wait()
    output = (tmp / "parity.log").read_text()
    report = tmp / "parity.json"
    if not report.exists():
        return f"parity suite on LocalStack did not report:\n{output[-3000:]}"
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    results = json.loads(report.read_text())
    keep = ROOT / "artifacts" / "localstack" / "parity.json"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text(report.read_text())
    text = (f"parity suite on LocalStack (the LocalStack column of docs/aws-parity.md; a "
            f"failure there is a LocalStack difference, not a failed build): {tail.strip('= ')}")
    stale = parity_column.compare(results)
    if stale:
        text += (f"\nnote: the LocalStack column of docs/aws-parity.md differs from this run in "
                 f"{len(stale)} line(s); update it with "
                 f"`python tests/localstack/parity_column.py --write {keep.relative_to(ROOT)}`")
    return text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebook")
    parser.add_argument("--out")
    parser.add_argument("--only", nargs="*", help="run only these notebooks/labs (names)")
    parser.add_argument("--no-parity", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.notebook:
        run_notebook(Path(args.notebook), Path(args.out))
        return 0

    t_all = time.monotonic()
    try:
        python = servers.ensure_venv()
    except servers.Unavailable as exc:
        print(f"test-localstack: SKIPPED - {exc}")
        return 0
    t_install = time.monotonic() - t_all

    # SIGTERM (CI's stop, a `kill`) unwinds through the finally below like Ctrl-C does.
    def _interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupted)
    from edalab.stack import free_port

    tmp = Path(tempfile.mkdtemp(prefix="edalab-localstack-"))
    ls = servers.LocalStack(python, free_port(), tmp)
    broker = servers.Broker(free_port(), tmp)
    failed, parity = 0, None
    try:
        up = ls.start()
        broker.start()
        print(f"LocalStack {ls.version()} (host mode, no Docker) ready on {ls.endpoint} in {up:.1f} s; "
              f"Kafka broker on 127.0.0.1:{broker.port}", flush=True)
        env = _env(ls, broker, tmp)
        paths = NOTEBOOKS + LABS
        if args.only:
            paths = [p for p in paths if p.stem in args.only]

        def one(path: Path) -> dict:
            # Each notebook in an account and Kafka namespace of its own: two run at a time.
            account = str(100000000000 + uuid.uuid4().int % 899999999999)
            nb_env = {**env, "EDALAB_ACCOUNT_ID": account,
                      "EDALAB_KAFKA_PREFIX": f"ls-{uuid.uuid4().hex[:6]}-"}
            result = _run_one(path, nb_env, tmp)
            print(f"  ran {result['name']} ({result['seconds']:.0f} s)", flush=True)
            return result

        if not args.no_parity:
            parity = _start_parity(ls, env, tmp)
        t_nb = time.monotonic()
        with ThreadPoolExecutor(max(1, args.workers)) as pool:
            results = list(pool.map(one, paths))
        t_nb = time.monotonic() - t_nb
        table, totals = _summary(results)
        failed = totals["failed"]
        print("\nCells on LocalStack (EDALAB_TARGET=compose):")
        print(table, flush=True)
        if parity is not None:
            print("\n" + _finish_parity(parity, tmp))
        print(f"\nLocalStack run: {time.monotonic() - t_all:.0f} s in all (install {t_install:.0f} s, "
              f"notebooks and labs {t_nb:.0f} s)")
        # The closing line counts cells: skipped = what the target lacks, or a known difference.
        print(f"test-localstack: {totals['passed']} passed, {totals['failed']} failed, "
              f"{totals['lambda'] + totals['other'] + totals['known']} skipped")
    finally:
        if parity is not None:
            servers.stop_group(parity, grace=5)
        broker.stop()
        ls.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
