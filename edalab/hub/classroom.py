"""A class's folder on the hub machine, and the hub that serves it.

Layout of the class folder (``EDALAB_CLASS_DIR``, default ``.classroom/`` in the project;
root-only, never mounted whole into a sandbox)::

    accounts.json        generated learner accounts (name -> password), mode 0600
    course/              the instructor's course folder: nbgrader_config.py, source/,
                         gradebook, release/, submitted/ ... (the instructor's home on the hub)
    exchange/            nbgrader's exchange, shared by the class (mounted into every server)
    home/<learner>/      each learner's home, owned by their uid, mode 0700
    etc/<learner>/       the passwd/group files their sandbox sees
    jupyterhub.sqlite, jupyterhub_cookie_secret, jupyterhub.pid

The course folder is a copy of ``graders/`` whose config points the exchange at the class's
``exchange/`` (by a path relative to the config, like every path there), so every
``edalab grade --course <class>/course ...`` step works on it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from . import netns
from .sandbox import REPO

CONFIG = REPO / "classroom" / "jupyterhub_config.py"
PROXY = REPO / "classroom" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
INSTRUCTOR = "instructor"
EXCHANGE_OVERRIDE = (
    "\n# The class hub: the exchange every learner's server mounts (edalab hub); the\n"
    "# instructor's server, where this folder is the home, is told where it is.\n"
    "import os  # noqa: E402\n"
    "c.Exchange.root = os.environ.get('EDALAB_EXCHANGE') or str(HERE.parent / 'exchange')\n"
)


def class_dir() -> Path:
    env = os.environ.get("EDALAB_CLASS_DIR")
    return Path(env).resolve() if env else REPO / ".classroom"


def edalab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "edalab"
    return subprocess.run([str(exe), *args], check=check)


def prepare(root: Path, learners: int = 0, labs: list[str] | None = None,
            say=print) -> dict[str, str]:
    """Create (or complete) the class folder; release ``labs`` (all by default). Returns the
    accounts it generated this time (name -> password)."""
    if os.geteuid() != 0:
        raise SystemExit("edalab hub: run as root (it gives each learner their own uid, "
                         "network namespace and sandbox)")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)
    for sub in ("home", "etc"):
        (root / sub).mkdir(exist_ok=True)
        (root / sub).chmod(0o711)
    exchange = root / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o755)
    course = root / "course"
    if not (course / "nbgrader_config.py").exists():
        course.mkdir(parents=True, exist_ok=True)
        config = (REPO / "graders" / "nbgrader_config.py").read_text()
        (course / "nbgrader_config.py").write_text(config + EXCHANGE_OVERRIDE)
        shutil.copytree(REPO / "graders" / "source", course / "source",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    wanted = labs if labs is not None else sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    if wanted:
        say(f"edalab hub: generating and releasing {', '.join(wanted)} ...")
        edalab("grade", "--course", str(course), "generate", *wanted)
        for lab in wanted:
            if not (exchange / "edalab" / "outbound" / lab).is_dir():
                edalab("grade", "--course", str(course), "release", lab)
    accounts_file = root / "accounts.json"
    accounts = json.loads(accounts_file.read_text()) if accounts_file.exists() else {}
    new = {}
    if INSTRUCTOR not in accounts:
        new[INSTRUCTOR] = secrets.token_urlsafe(12)
    for i in range(1, learners + 1):
        name = f"learner{i:02d}"
        if name not in accounts:
            new[name] = secrets.token_urlsafe(12)
    if new:
        accounts.update(new)
        accounts_file.write_text(json.dumps(accounts, indent=2))
        accounts_file.chmod(0o600)
    return new


def hub_command(root: Path) -> list[str]:
    if not PROXY.exists():
        raise SystemExit("edalab hub: the proxy is not installed: run `make hub-install`")
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)]


def hub_env(root: Path, port: int, extra: dict | None = None) -> dict[str, str]:
    return {**os.environ, "EDALAB_CLASS_DIR": str(root), "EDALAB_HUB_PORT": str(port),
            **(extra or {})}


def down(root: Path, subnet: str = "10.213.0.0/16", tag: str = "0") -> None:
    """Remove what a hub that did not stop cleanly may have left: namespaces, the gateway."""
    prefix = f"edalab{tag}-"
    for path in sorted(netns.NETNS_DIR.glob(f"{prefix}*")) if netns.NETNS_DIR.is_dir() else []:
        index = path.name[len(prefix):]
        if index.isdigit():
            netns.remove(int(index), tag)
    netns.gateway_down(netns.Addressing(subnet, tag))
