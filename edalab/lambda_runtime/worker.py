"""One execution environment: a ``bootstrap.py`` subprocess and the pipes to talk to it.

The parent side of the protocol described in ``bootstrap.py``. A worker is born a *spare*
(Python started, boto3 imported, no function yet), is bound to one function version by
``init()``, then serves ``invoke()`` calls one at a time. Limits are enforced from here: past
its deadline, or above its memory size, the whole process group is killed, so a hanging or
memory-hungry handler never stalls or starves the emulator.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
RECORD = "\x1e"
POLL = 0.02  # s between memory checks while a handler runs


class WorkerGone(Exception):
    """The worker process ended (or was killed) before it answered."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # AWS's wording: "exit status 1", "signal: killed"


class WorkerTimeout(Exception):
    """The deadline passed; the worker has been killed."""


class WorkerOutOfMemory(WorkerGone):
    """Resident memory went above the function's memory size; the worker has been killed."""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "signal: killed"
    if code < 0:
        try:
            name = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                    signal.SIGABRT: "aborted", signal.SIGTERM: "terminated"}[signal.Signals(-code)]
        except (KeyError, ValueError):
            name = str(-code)
        return f"signal: {name}"
    return f"exit status {code}"


class Worker:
    def __init__(self, workdir: Path, env: dict[str, str]):
        self.id = uuid.uuid4().hex
        self.log_path = workdir / f"worker-{self.id}.log"
        child_in, self._w = os.pipe()
        self._r, child_out = os.pipe()
        with open(self.log_path, "ab") as log:
            # In a grading sandbox each environment is a nested learner sandbox: the handler
            # cannot see or signal the emulator (EDALAB_LAMBDA_SANDBOX is its argv prefix).
            prefix = json.loads(os.environ.get("EDALAB_LAMBDA_SANDBOX") or "[]")
            self.proc = subprocess.Popen(
                [*prefix, sys.executable, "-I", str(BOOTSTRAP), str(child_in), str(child_out)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(child_in, child_out), start_new_session=True, env=env, cwd=workdir)
        os.close(child_in)
        os.close(child_out)
        self._ps = psutil.Process(self.proc.pid)
        self._sandboxed = bool(prefix)
        self._buf = bytearray()
        self._ready = False
        self.key = None          # the function version it serves (set by the pool)
        self.stream = None       # its CloudWatch log stream
        self.last_used = time.monotonic()
        self.init_ms = 0.0
        self._peak_rss = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    # -- framing ----------------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        data = json.dumps(message).encode()
        data = struct.pack(">I", len(data)) + data
        try:
            while data:
                data = data[os.write(self._w, data):]
        except OSError:  # broken pipe: it died; the read that follows says how
            pass

    def _recv(self, deadline: float | None, memory_limit: int | None = None) -> dict:
        """The next frame; raises WorkerTimeout / WorkerOutOfMemory / WorkerGone."""
        while True:
            if len(self._buf) >= 4:
                (size,) = struct.unpack(">I", self._buf[:4])
                if len(self._buf) >= 4 + size:
                    frame = bytes(self._buf[4:4 + size])
                    del self._buf[:4 + size]
                    return json.loads(frame)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                self.kill()
                raise WorkerTimeout()
            wait = POLL if deadline is None else min(POLL, deadline - now)
            readable, _, _ = select.select([self._r], [], [], max(wait, 0))
            if readable:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    code = self.proc.wait()
                    self.close()
                    raise WorkerGone(_describe_exit(code))
                self._buf += chunk
            elif memory_limit and self.rss() > memory_limit:
                self.peak_rss_mb()  # remember it before the process is gone
                self.kill()
                raise WorkerOutOfMemory("signal: killed")

    # -- lifecycle --------------------------------------------------------------------------
    def wait_ready(self, timeout: float = 60.0) -> None:
        if not self._ready:
            msg = self._recv(time.monotonic() + timeout)
            assert msg.get("op") == "ready", msg
            self._ready = True

    def init(self, message: dict, timeout: float) -> dict:
        """Bind to a function: import the handler. Returns the init_done frame."""
        self.wait_ready()
        self._send({"op": "init", **message})
        reply = self._recv(time.monotonic() + timeout)
        self.init_ms = reply.get("init_ms", 0.0)
        return reply

    def invoke(self, message: dict, timeout: float, memory_limit: int | None) -> dict:
        self._send({"op": "invoke", **message})
        reply = self._recv(time.monotonic() + timeout, memory_limit)
        self.last_used = time.monotonic()
        return reply

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss(self) -> int:
        try:
            rss = self._ps.memory_info().rss
            if self._sandboxed:  # the launcher's rss says nothing: the handler is a descendant
                rss = sum(p.memory_info().rss for p in self._ps.children(recursive=True))
        except psutil.Error:
            return 0
        self._peak_rss = max(self._peak_rss, rss)
        return rss

    def peak_rss_mb(self) -> int:
        """Peak resident memory (VmHWM), as REPORT's "Max Memory Used"."""
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        self._peak_rss = max(self._peak_rss, int(line.split()[1]) * 1024)
        except OSError:
            pass
        return max(1, self._peak_rss // (1 << 20))

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                try:
                    self.proc.kill()
                except OSError:
                    pass
            self.proc.wait()
        self.close()

    def close(self) -> None:
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._w = self._r = -1

    def dispose(self) -> None:
        """Kill it and delete its log file (after the pool has read what it needs)."""
        self.kill()
        try:
            self.log_path.unlink()
        except OSError:
            pass

    # -- output -----------------------------------------------------------------------------
    def log_offset(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def trim_log(self, limit: int = 8 << 20) -> None:
        """Empty the log file once it is big (between invocations: everything is read)."""
        if self.log_offset() > limit:
            try:
                os.truncate(self.log_path, 0)  # the child appends (O_APPEND): it goes on at 0
            except OSError:
                pass

    def read_log(self, offset: int, default_ms: int) -> list[tuple[int, str]]:
        """(epoch ms, line) for what the worker wrote since ``offset``."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        out = []
        for line in text.split("\n"):
            if line.startswith(RECORD):
                stamp, _, rest = line[1:].partition("\t")
                try:
                    out.append((int(stamp), rest))
                    continue
                except ValueError:
                    pass
            if line:
                out.append((default_ms, line))
        return out
