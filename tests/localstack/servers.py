"""LocalStack in host mode and the embedded Kafka broker, for one `make test-localstack` run.

LocalStack runs from its PyPI distribution (``localstack-core``) in a virtual environment of
its own (``.venv-localstack``, Python 3.13), so its pins never meet the course's. It listens
on a free loopback port and keeps its files in a temporary folder; the broker (noida-db, as in
the embedded stack) stands in for Apache Kafka. Both are started in sessions of their own and
stopped by process group, so nothing is left running when the run ends or is interrupted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / ".venv-localstack"
REQUIREMENTS = HERE / "requirements.txt"
PYTHON_VERSION = "3.13"
COMPOSE = ROOT / "docker-compose.yml"


def compose_environment() -> dict[str, str]:
    """The environment docker-compose.yml gives its LocalStack (SERVICES, ...): one list."""
    import yaml

    env = yaml.safe_load(COMPOSE.read_text())["services"]["localstack"].get("environment", {})
    return {str(k): str(v) for k, v in env.items()}


class Unavailable(Exception):
    """LocalStack cannot be had on this machine (no Python 3.13): the run is skipped."""


def _works(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys, venv; print(sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "(3, 13)"


def find_python313() -> str:
    """A working Python 3.13: on PATH, a pyenv-installed one, or one uv knows of."""
    candidates = []
    if os.environ.get("LOCALSTACK_PYTHON"):
        candidates.append(os.environ["LOCALSTACK_PYTHON"])
    candidates += [p for p in (shutil.which("python3.13"),) if p]
    # pyenv's versions (a pyenv shim on PATH fails unless 3.13 is the selected version).
    roots = [os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")]
    if shutil.which("pyenv"):
        roots.append(subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip())
    for root in filter(None, roots):
        candidates += sorted(str(p) for p in Path(root, "versions").glob("3.13*/bin/python3.13"))
    if shutil.which("uv"):
        found = subprocess.run(["uv", "python", "find", PYTHON_VERSION], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    for python in candidates:
        if _works(python):
            return python
    raise Unavailable(
        "no Python 3.13 on this machine (looked on PATH, in pyenv's versions and through uv); "
        "LocalStack's host mode needs it. Install Python 3.13 (e.g. `pyenv install 3.13`) "
        "or set LOCALSTACK_PYTHON to one.")


def ensure_venv(say=print) -> Path:
    """``.venv-localstack`` with exactly ``requirements.txt`` installed (re-made when it changes)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    python = VENV / "bin" / "python"
    if stamp.is_file() and stamp.read_text().strip() == digest and python.exists():
        return python
    base = find_python313()
    say(f"localstack: installing localstack-core into {VENV.name} (Python 3.13) ...")
    if VENV.exists():
        shutil.rmtree(VENV)
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(digest + "\n")
    return python


def stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the process group we started, then SIGKILL what is left after ``grace``."""
    if proc.returncode is not None:  # already waited for: its group is not ours to guess at
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # children of the group outlive a leader that exited
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _wait(check, proc: subprocess.Popen, what: str, log: Path, timeout: float) -> float:
    t0 = time.monotonic()
    while not check():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited while starting; its log:\n{log.read_text()[-3000:]}")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{what} did not answer within {timeout:.0f} s; its log:\n"
                               f"{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return time.monotonic() - t0


class LocalStack:
    def __init__(self, python: Path, port: int, root: Path):
        self.python, self.port, self.root = python, port, root
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = root / "localstack.log"
        self.proc: subprocess.Popen | None = None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def start(self, timeout: float = 120) -> float:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EDALAB_"))}
        env.update(compose_environment())
        # Host mode: loopback only, files in our folder, no DNS server, no certificate
        # download or analytics (the machine may be offline), loopback URLs in answers.
        env.update(
            GATEWAY_LISTEN=f"127.0.0.1:{self.port}", LOCALSTACK_HOST=f"127.0.0.1:{self.port}",
            FILESYSTEM_ROOT=str(self.root / "filesystem"), TMPDIR=str(self.root / "tmp"),
            OVERRIDE_IN_DOCKER="0", DNS_ADDRESS="0", SKIP_SSL_CERT_DOWNLOAD="1",
            DISABLE_EVENTS="1", PYTHONUNBUFFERED="1")
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "localstack.runtime.main"], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.root,
                start_new_session=True)
        return _wait(self.healthy, self.proc, "LocalStack", self.log, timeout)

    def version(self) -> str:
        import json

        with urllib.request.urlopen(f"{self.endpoint}/_localstack/info", timeout=5) as r:
            return json.load(r)["version"]

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc)


class Broker:
    """The embedded stack's Kafka-protocol broker alone (the AWS side is LocalStack's)."""

    def __init__(self, port: int, root: Path):
        self.port, self.root = port, root
        self.log = root / "kafka.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> float:
        from edalab.stack import kafka_binary, kafka_healthy

        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(kafka_binary()), "start", "--only", "kafka", "--host", "127.0.0.1",
                 "--kafka-port", str(self.port), "--data-dir", str(self.root / "kafka")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root,
                start_new_session=True)
        return _wait(lambda: kafka_healthy(self.port, timeout=0.5), self.proc, "The Kafka broker",
                     self.log, timeout)

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, grace=5)


if __name__ == "__main__":  # `python servers.py` only installs the venv
    print(ensure_venv())
    sys.exit(0)
