"""The embedded lab stack's lifecycle: start, health, stop, reset, logs.

Two processes, both on loopback, both started detached so the stack outlives the shell or
notebook that started it:

* ``aws``   - ``python -m edalab.server``: moto plus our AWS-parity extensions, on 4566;
* ``kafka`` - the noida-db broker binary (``--only kafka``), on 9092, data in the state folder.

Their pids and command lines go to ``<state>/stack.json``; ``down`` stops exactly those
processes (a pid is only signalled if its command line still matches what we started, so a
recycled pid is never killed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import psutil

from . import target as _target
from .errors import EdalabError, PortInUse, StackNotRunning

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def kafka_binary() -> Path:
    """The broker binary inside the noida-db wheel (its console script is only a wrapper that
    forks it, so killing the wrapper would leave the broker running: we start the binary)."""
    path = Path(str(resources.files("noida_db").joinpath("noida-db")))
    if not path.is_file():
        raise EdalabError(f"The Kafka broker binary is missing ({path}): run `make install`.")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


@dataclass
class Service:
    name: str
    port: int
    argv: list[str]
    log: Path
    pid: int | None = None
    extra_env: dict = field(default_factory=dict)

    def describe(self) -> str:
        return {"aws": "AWS emulator", "kafka": "Kafka broker"}[self.name]


def port_owner(port: int) -> str | None:
    """Who listens on ``port`` ("pid 123 (python3 ...)"), or None if we cannot tell."""
    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid:
                    proc = psutil.Process(conn.pid)
                    return f"pid {conn.pid} ({' '.join(proc.cmdline())[:80]})"
                return "another process"
    except (psutil.Error, OSError):
        pass
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (for tests and benches)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False


def _alive(pid: int | None, argv: list[str]) -> bool:
    """True if ``pid`` runs and is still the process we started (same command line)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and proc.cmdline() == argv
    except psutil.Error:
        return False


def aws_healthy(port: int, timeout: float = 1.0) -> bool:
    """A real request: SQS ListQueues answered by the emulator."""
    import urllib.request

    req = urllib.request.Request(
        f"http://{HOST}:{port}/",
        data=b"Action=ListQueues&Version=2012-11-05",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status == 200 and b"ListQueues" in resp.read()
    except OSError:
        return False


def kafka_healthy(port: int, timeout: float = 1.0) -> bool:
    """A real request: the broker answers a Metadata request."""
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": f"{HOST}:{port}", "log_level": 0,
                             "logger": _SilentLogger()})
        admin.list_topics(timeout=timeout)
        return True
    except Exception:
        return False


class _SilentLogger:
    """librdkafka logs 'connection refused' while we poll a broker that is still starting."""

    def log(self, *args, **kwargs):
        pass

    def __getattr__(self, _name):
        return self.log


class Stack:
    """The embedded stack rooted at a state folder (``EDALAB_HOME``, default ``.edalab/``)."""

    def __init__(self, home: Path | None = None, aws_port: int | None = None,
                 kafka_port: int | None = None):
        self.home = Path(home) if home else _target.home()
        saved = self._saved()
        self.aws_port = aws_port or int(
            os.environ.get("EDALAB_AWS_PORT") or saved.get("aws_port") or _target.DEFAULT_AWS_PORT)
        self.kafka_port = kafka_port or int(
            os.environ.get("EDALAB_KAFKA_PORT") or saved.get("kafka_port") or _target.DEFAULT_KAFKA_PORT)

    # -- state file -------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.home / "stack.json"

    def _saved(self) -> dict:
        try:
            return json.loads((self.home / "stack.json").read_text())
        except (OSError, ValueError):
            return {}

    def services(self) -> list[Service]:
        env = {"EDALAB_HOME": str(self.home), "EDALAB_AWS_PORT": str(self.aws_port),
               "EDALAB_KAFKA_PORT": str(self.kafka_port)}
        return [
            Service("aws", self.aws_port,
                    [sys.executable, "-m", "edalab.server", "--host", HOST, "--port", str(self.aws_port)],
                    self.home / "logs" / "aws.log", extra_env=env),
            Service("kafka", self.kafka_port,
                    [str(kafka_binary()), "start", "--only", "kafka", "--host", HOST,
                     "--kafka-port", str(self.kafka_port), "--data-dir", str(self.home / "kafka")],
                    self.home / "logs" / "kafka.log"),
        ]

    def _running(self) -> dict[str, dict]:
        """Services from the state file whose processes are still ours and alive."""
        saved = self._saved()
        return {name: info for name, info in saved.get("services", {}).items()
                if _alive(info.get("pid"), info.get("argv", []))}

    # -- lifecycle --------------------------------------------------------------------------
    def is_running(self) -> bool:
        return set(self._running()) == {"aws", "kafka"}

    def up(self, say=print, timeout: float = START_TIMEOUT) -> dict:
        """Start both services and wait until each answers a real request.

        Starts nothing if a port is taken; on any failure or Ctrl-C, stops what it started.
        """
        running = self._running()
        if set(running) == {"aws", "kafka"}:
            say(f"The embedded stack is already running (state in {self.home}).")
            self._print_endpoints(say)
            return self._saved()
        if running:  # half a stack (one process died): restart cleanly
            self.down(say=lambda *_: None)
        for svc in self.services():
            if not port_free(svc.port):
                owner = port_owner(svc.port)
                raise PortInUse(
                    f"Port {svc.port} on {HOST}, needed by the {svc.describe()}, is in use"
                    f"{' by ' + owner if owner else ''}. Stop that process, or choose another port: "
                    f"`edalab up --{svc.name}-port N` (notebooks follow the running stack)."
                )
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        started: list[Service] = []
        t0 = time.monotonic()
        retried: set[str] = set()
        try:
            for svc in self.services():
                self._spawn(svc, lambda svc=svc: (started.append(svc), self._write(started)))
            checks = {"aws": aws_healthy, "kafka": kafka_healthy}
            pending = {svc.name: svc for svc in started}
            deadline = time.monotonic() + timeout
            while pending:
                for name, svc in list(pending.items()):
                    if not _alive(svc.pid, svc.argv):
                        if name not in retried and not svc.log.read_bytes().strip():
                            # Gone before it wrote a line (killed from outside while the machine
                            # was busy): one more start, then its log speaks.
                            retried.add(name)
                            self._spawn(svc, lambda: self._write(started))
                            continue
                        tail = self.logs(name, lines=15)
                        raise EdalabError(f"The {svc.describe()} exited while starting. Its log:\n{tail}")
                    if checks[name](svc.port, timeout=0.5):
                        say(f"  {svc.describe():<13} ready on {HOST}:{svc.port} "
                            f"({time.monotonic() - t0:.1f} s)")
                        del pending[name]
                if pending and time.monotonic() > deadline:
                    raise EdalabError(
                        f"{', '.join(pending)} did not answer within {timeout:.0f} s; see `edalab logs`.")
                if pending:
                    time.sleep(0.05)
        except BaseException:
            for svc in started:
                _stop_pid(svc.pid, svc.argv)
            self.state_file.unlink(missing_ok=True)
            raise
        self._print_endpoints(say)
        return self._saved()

    def _spawn(self, svc: Service, record) -> None:
        env = {**os.environ, **svc.extra_env}
        # Ctrl-C between "child exists" and "child recorded" would leak it: hold SIGINT until
        # ``record()`` has written the pid (the child gets an unblocked mask back).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            with open(svc.log, "ab") as log:
                proc = subprocess.Popen(
                    svc.argv, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                    cwd=self.home, preexec_fn=_unblock_sigint)
            svc.pid = proc.pid
            record()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def _write(self, services: list[Service]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        data = {"aws_port": self.aws_port, "kafka_port": self.kafka_port,
                "services": {s.name: {"pid": s.pid, "argv": s.argv, "port": s.port} for s in services}}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.state_file)

    def _print_endpoints(self, say) -> None:
        say(f"AWS endpoint:    http://{HOST}:{self.aws_port}   (AWS_ENDPOINT_URL)")
        say(f"Kafka bootstrap: {HOST}:{self.kafka_port}")

    def down(self, say=print) -> list[str]:
        """Stop exactly the processes this stack started; returns the names stopped."""
        saved = self._saved().get("services", {})
        stopped = []
        for name, info in saved.items():
            if _stop_pid(info.get("pid"), info.get("argv", [])):
                stopped.append(name)
        self.state_file.unlink(missing_ok=True)
        say(f"Stopped: {', '.join(stopped)}." if stopped else "The embedded stack was not running.")
        return stopped

    def status(self) -> list[dict]:
        running = self._running()
        rows = []
        for svc in self.services():
            info = running.get(svc.name)
            healthy = (aws_healthy if svc.name == "aws" else kafka_healthy)(svc.port)
            rows.append({"service": svc.name, "description": svc.describe(), "port": svc.port,
                         "pid": info["pid"] if info else None, "healthy": healthy,
                         "ours": bool(info)})
        return rows

    def reset(self, kafka: bool = False, say=print) -> None:
        """Wipe the emulator's state (every account); with ``kafka`` also delete every topic."""
        import urllib.request

        if not self.is_running():
            raise StackNotRunning("The embedded stack is not running: start it with `edalab up`.")
        urllib.request.urlopen(urllib.request.Request(
            f"http://{HOST}:{self.aws_port}/moto-api/reset", data=b"", method="POST"), timeout=30).read()
        say("AWS emulator state wiped (all accounts).")
        if kafka:
            from confluent_kafka.admin import AdminClient

            admin = AdminClient({"bootstrap.servers": f"{HOST}:{self.kafka_port}"})
            topics = [t for t in admin.list_topics(timeout=5).topics if not t.startswith("__")]
            if topics:
                for fut in admin.delete_topics(topics, operation_timeout=10).values():
                    fut.result()
            say(f"Kafka topics deleted: {len(topics)}.")

    def logs(self, service: str | None = None, lines: int = 40) -> str:
        names = [service] if service else ["aws", "kafka"]
        out = []
        for name in names:
            path = self.home / "logs" / f"{name}.log"
            if not path.exists():
                out.append(f"== {name}: no log yet ({path})")
                continue
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"== {name} ({path})\n" + "\n".join(text))
        return "\n".join(out)

    def wipe(self) -> None:
        """Remove the state folder (broker data, logs). Only when stopped."""
        if self._running():
            raise EdalabError("Stop the stack first: `edalab down`.")
        shutil.rmtree(self.home, ignore_errors=True)


def _unblock_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _stop_pid(pid: int | None, argv: list[str], grace: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` s, the process group we started. True if stopped."""
    if not _alive(pid, argv):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    try:
        psutil.Process(pid).wait(grace)
    except psutil.TimeoutExpired:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            psutil.Process(pid).wait(grace)
        except psutil.Error:
            pass
    except psutil.Error:
        pass
    return True
