"""Hide the course from a submission's kernel with a private mount namespace, when allowed.

The scratch folder keeps the gradebook and the solutions out of reach by relative path, but
the kernel runs as the grader's user: code that knows the course's absolute location (it is
one ``edalab.__file__`` away) could still open them. Where the machine allows mount
namespaces (root, or unprivileged user namespaces), the kernel is started through
``unshare`` in a namespace of its own where those paths are covered (an empty read-only
tmpfs on folders, /dev/null on files), then drops every capability with ``setpriv`` so it
cannot unmount the covers. The util-linux tools do this in two exec calls with no extra
process, so the kernel's pid, signals and rlimits are unchanged. Where it is not allowed,
grading goes on with the scratch-folder isolation alone (``available()`` says which).
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from jupyter_client.manager import AsyncKernelManager
from traitlets import List

# Covers each path given before "--", then runs the rest without any capability.
COVER = (
    'while [ "$1" != "--" ]; do '
    'if [ -d "$1" ]; then mount -t tmpfs -o size=64k,mode=0555 edalab-hidden "$1" || exit 97; '
    'elif [ -e "$1" ]; then mount --bind /dev/null "$1" || exit 97; fi; shift; done; shift; '
    'exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"'
)
UNSHARE = (["unshare", "--mount", "--propagation", "private"],
           ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"])


@functools.lru_cache(maxsize=1)
def unshare_prefix() -> tuple[str, ...] | None:
    """The unshare command that works on this machine, or None (probed once)."""
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return None
    for prefix in UNSHARE:
        probe = [*prefix, "--", "/bin/sh", "-c", COVER, "edalab-sandbox", "--", "true"]
        try:
            if subprocess.run(probe, capture_output=True, timeout=10).returncode == 0:
                return tuple(prefix)
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def available() -> bool:
    return unshare_prefix() is not None


def command(hidden: list[str]) -> list[str]:
    """The argv prefix that starts a kernel with ``hidden`` paths covered."""
    prefix = unshare_prefix()
    if prefix is None:
        return []
    return [*prefix, "--", "/bin/sh", "-c", COVER, "edalab-sandbox", *hidden, "--"]


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command starts behind ``sandbox_prefix``."""

    sandbox_prefix = List([])

    def format_kernel_cmd(self, extra_arguments=None):
        return [*self.sandbox_prefix, *super().format_kernel_cmd(extra_arguments)]
