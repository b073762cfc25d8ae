"""Start and stop a real class hub for the tests and the bench: JupyterHub with the pinned
proxy, the class's spawner and culler, on free loopback ports, in a class folder of its own.

Each hub gets its own namespace tag, address range and uid range, so a test run, a bench
and an instructor's trial hub on the same machine never meet.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import string
import subprocess
from pathlib import Path
from types import SimpleNamespace

import psutil

from edalab.hub import classroom, netns
from edalab.hub.api import Hub
from edalab.stack import free_port, port_free


def hub_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the class hub runs as root (uids, network namespaces)"
    if not (shutil.which("ip") and shutil.which("nsenter") and shutil.which("setpriv")):
        return "needs iproute2 (ip), nsenter and setpriv"
    if not classroom.PROXY.exists():
        return "the proxy is not installed: make hub-install"
    return None


def free_ports(count: int) -> int:
    """A port p with p .. p+count-1 all free on loopback."""
    for _ in range(100):
        port = free_port()
        if port + count < 65535 and all(port_free(port + i) for i in range(count)):
            return port
    raise RuntimeError("no run of free ports")


def uid_processes(uids: range) -> list[psutil.Process]:
    out = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real in uids:
                out.append(proc)
        except psutil.Error:
            pass
    return out


def start_hub(root: Path, labs: list[str], log: Path) -> SimpleNamespace:
    """Prepare a class folder and start its hub; returns what a test needs to drive it."""
    classroom.prepare(root, learners=0, labs=labs, say=lambda *_: None)
    port = free_ports(3)
    tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(2))
    subnet = f"10.214.{secrets.randbelow(250) + 1}.0/24"
    uid_base = 300000 + 1000 * secrets.randbelow(500)
    token = secrets.token_hex(16)
    env = classroom.hub_env(root, port, {
        "EDALAB_HUB_API_TOKEN": token, "EDALAB_HUB_TAG": tag, "EDALAB_HUB_SUBNET": subnet,
        "EDALAB_HUB_UID_BASE": str(uid_base)})
    with open(log, "ab") as out:
        proc = subprocess.Popen(classroom.hub_command(root), cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token)
    try:
        hub.wait_up()
    except Exception:
        stop_hub(SimpleNamespace(proc=proc, root=root, subnet=subnet, tag=tag))
        raise
    return SimpleNamespace(api=hub, proc=proc, root=root, port=port, tag=tag, subnet=subnet,
                           uids=range(uid_base, uid_base + 1000), token=token, log=log,
                           addressing=netns.Addressing(subnet, tag))


def stop_hub(hub: SimpleNamespace) -> None:
    """SIGTERM the hub (it stops every server and its proxy), SIGKILL its group if it hangs,
    then remove the namespaces and the gateway address."""
    if hub.proc.poll() is None:
        hub.proc.send_signal(signal.SIGTERM)
        try:
            hub.proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(hub.proc.pid, signal.SIGKILL)
            hub.proc.wait(10)
    try:
        os.killpg(hub.proc.pid, signal.SIGKILL)  # the proxy and the culler, if still there
    except OSError:
        pass
    classroom.down(hub.root, hub.subnet, hub.tag)
