"""One network namespace per learner, joined to the host by a veth pair and nothing else.

Inside, the learner's server, kernels and embedded stack use the default ports (4566, 9092)
on a loopback of their own, so notebooks and labs run unchanged and no other learner can
reach them: another learner's namespace has no route to this one, and the stack listens on
loopback only. The host reaches the learner's server at one address per learner; the
learner reaches the hub at one gateway address shared by all. No address needs a bridge,
forwarding or NAT:

* host side: the gateway address on loopback (a /32; the hub listens there), a /32 route to
  each learner's address through their veth end;
* learner side: the learner's address (/32) and a /32 route to the gateway, nothing else -
  no default route, so nothing leaves the machine;
* the whole class range is ``unreachable`` on the host, so a request for a learner whose
  namespace is gone fails here instead of going out.

The learner holds no capability in the namespace (it belongs to the host's user
namespace), so they cannot add a route, an address or an interface.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

NETNS_DIR = Path("/run/netns")


class Addressing:
    """Addresses in the class range: index i (the hub's user id) gets the i-th /30 block."""

    def __init__(self, subnet: str = "10.213.0.0/16", tag: str = "0"):
        self.net = ipaddress.ip_network(subnet)
        self.gateway = str(self.net[-2])
        self.tag = tag  # tells two hubs on one machine apart in namespace and link names

    def learner_ip(self, index: int) -> str:
        addr = self.net[4 * index + 2]
        if addr >= self.net[-4]:
            raise ValueError(f"learner {index} does not fit in {self.net}: give a larger subnet")
        return str(addr)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def names(index: int, tag: str = "0") -> tuple[str, str]:
    """(namespace name, host-side interface name) for learner ``index`` of hub ``tag``
    (an interface name has 15 characters at most)."""
    return f"edalab{tag}-{index}", f"ed{tag}-{index}"


def gateway_up(addressing: Addressing) -> None:
    """The gateway address on loopback and the class range unreachable on the host (the
    learners' /32 routes override it). Idempotent; the hub calls it before it listens."""
    if str(addressing.net) not in _ip("route", "show", "type", "unreachable").stdout:
        _ip("route", "add", "unreachable", str(addressing.net))
    if f"{addressing.gateway}/32" not in _ip("-4", "addr", "show", "dev", "lo").stdout:
        _ip("addr", "add", f"{addressing.gateway}/32", "dev", "lo")


def gateway_down(addressing: Addressing) -> None:
    _ip("addr", "del", f"{addressing.gateway}/32", "dev", "lo", check=False)
    _ip("route", "del", "unreachable", str(addressing.net), check=False)


def create(index: int, addressing: Addressing) -> str:
    """A fresh namespace for learner ``index`` (an old one is removed first); its path."""
    ns, host_if = names(index, addressing.tag)
    remove(index, addressing.tag)
    gateway_up(addressing)
    ip, gw = addressing.learner_ip(index), addressing.gateway
    _ip("netns", "add", ns)
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", host_if, "up")
        _ip("route", "add", f"{ip}/32", "dev", host_if, "src", gw)
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "addr", "add", f"{ip}/32", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "route", "add", f"{gw}/32", "dev", "eth0", "src", ip)
    except subprocess.CalledProcessError as exc:
        remove(index, addressing.tag)
        raise RuntimeError(f"could not set up the network namespace {ns}: {exc.stderr.strip()}") from exc
    return str(NETNS_DIR / ns)


def remove(index: int, tag: str = "0") -> None:
    """Delete learner ``index``'s namespace (its veth pair goes with it)."""
    ns, host_if = names(index, tag)
    if (NETNS_DIR / ns).exists():
        _ip("netns", "delete", ns, check=False)
    _ip("link", "delete", host_if, check=False)


def exists(index: int, tag: str = "0") -> bool:
    return (NETNS_DIR / names(index, tag)[0]).exists()
