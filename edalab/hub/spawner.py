"""JupyterHub's LocalProcessSpawner, with each server in its learner's network namespace and
sandbox (``netns.py``, ``sandbox.py``) instead of a setuid to a system account.

Only ``start``, ``stop`` and the environment differ from the maintained spawner; polling,
signals, state after a hub restart and timeouts are its own. Learners need no system
account: the uid is ``uid_base`` plus the hub's user id, and the sandbox gets passwd/group
files naming it. Admin users are instructors: their home is the class's course folder
(formgrader, ``nbgrader_config.py``), not a learner home.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path
from subprocess import Popen

import psutil
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, Unicode

from . import netns, sandbox

SERVER_PORT = 8888
CONFIG = Path(__file__).resolve().parent


class LearnerSpawner(LocalProcessSpawner):
    class_dir = Unicode(help="the class's state folder (homes, exchange, course)").tag(config=True)
    subnet = Unicode("10.213.0.0/16", help="address range of the learners' namespaces").tag(config=True)
    uid_base = Integer(200000, help="a learner's uid is this plus their hub user id").tag(config=True)
    max_processes = Integer(1024, help="processes and threads a learner's uid may run at once "
                            "(RLIMIT_NPROC: a fork bomb stops there)").tag(config=True)
    hub_tag = Unicode("0", help="tells this hub's namespaces from another hub's on the machine").tag(config=True)

    # -- who and where ----------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self.user.id

    @property
    def uid(self) -> int:
        return self.uid_base + self.index

    @property
    def addressing(self) -> netns.Addressing:
        return netns.Addressing(self.subnet, self.hub_tag)

    @property
    def exchange(self) -> Path:
        return Path(self.class_dir) / "exchange"

    @property
    def course(self) -> Path:
        return Path(self.class_dir) / "course"

    @property
    def instructor(self) -> bool:
        return bool(self.user.admin)

    def learner(self) -> sandbox.Learner:
        root = Path(self.class_dir)
        home = self.course if self.instructor else root / "home" / self.user.name
        return sandbox.Learner(self.user.name, self.uid, home, root / "etc" / self.user.name,
                               binds=[self.exchange])

    def _prepare_home(self, learner: sandbox.Learner) -> None:
        first = not learner.home.exists()
        learner.home.mkdir(parents=True, exist_ok=True)
        if first and not self.instructor:
            shutil.copytree(sandbox.REPO / "notebooks", learner.home / "notebooks",
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for dirpath, dirnames, filenames in os.walk(learner.home):
            for name in [*dirnames, *filenames]:
                os.lchown(os.path.join(dirpath, name), learner.uid, learner.uid)
        os.chown(learner.home, learner.uid, learner.uid)
        learner.home.chmod(0o700)
        sandbox.write_identity(learner)

    # -- environment ------------------------------------------------------------------------
    def user_env(self, env):
        home = f"/home/{self.user.name}"
        env.update(USER=self.user.name, LOGNAME=self.user.name, HOME=home, SHELL="/bin/bash")
        return env

    def get_env(self):
        env = super().get_env()
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = f"{venv_bin}:/usr/local/bin:/usr/bin:/bin"
        env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
        env["EDALAB_EXCHANGE"] = str(self.exchange)
        env["EDALAB_HOME"] = f"/home/{self.user.name}/.edalab"
        env["JUPYTER_CONFIG_PATH"] = str(CONFIG / ("instructor" if self.instructor else "learner"))
        env["EDALAB_COURSE"] = f"/home/{self.user.name}" if self.instructor else ""
        env.setdefault("LANG", "C.UTF-8")
        for key in ("EDALAB_AWS_PORT", "EDALAB_KAFKA_PORT", "EDALAB_AWS_ENDPOINT",
                    "EDALAB_KAFKA_BOOTSTRAP", "EDALAB_TARGET", "EDALAB_ACCOUNT_ID"):
            env.pop(key, None)  # the learner's own stack on the default ports, always
        return env

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self):
        learner = self.learner()
        await asyncio.to_thread(self._prepare_home, learner)
        path = await asyncio.to_thread(netns.create, self.index, self.addressing)
        self.ip = self.addressing.learner_ip(self.index)
        self.port = SERVER_PORT
        env = self.get_env()
        inner = [sys.executable, "-m", "edalab.hub.singleuser", *self.cmd, *self.get_args()]
        cmd = ["nsenter", f"--net={path}", "--", *sandbox.command(learner, inner, env)]
        self.log.info("Spawning %s's server as uid %d in %s", self.user.name, self.uid, path)
        try:
            self.proc = Popen(cmd, start_new_session=True, env={"PATH": os.environ.get("PATH", "")},
                              preexec_fn=self._limits, **self.popen_kwargs)
        except Exception:
            netns.remove(self.index, self.hub_tag)
            raise
        self.pid = self.proc.pid
        return (self.ip, self.port)

    def _limits(self) -> None:
        """In the child before exec: root (bwrap) ignores the limit, the learner's uid keeps it."""
        resource.setrlimit(resource.RLIMIT_NPROC, (self.max_processes, self.max_processes))

    async def stop(self, now=False):
        try:
            await super().stop(now=now)
        finally:
            await asyncio.to_thread(self._reap)

    def _reap(self) -> None:
        """After the sandbox's pid 1 is gone nothing of the learner's can run; make sure (a
        process that escaped would be a bug) and drop the namespace."""
        deadline = time.monotonic() + 5  # the kernel ends the namespace's processes itself
        while self._processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self._processes():
            self.log.warning("killing %s's leftover process %d", self.user.name, pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        netns.remove(self.index, self.hub_tag)

    def _processes(self) -> list[int]:
        """Pids running as this learner's uid."""
        out = []
        for proc in psutil.process_iter(["uids"]):
            try:
                if proc.info["uids"] and proc.info["uids"].real == self.uid:
                    out.append(proc.pid)
            except psutil.Error:
                pass
        return out
