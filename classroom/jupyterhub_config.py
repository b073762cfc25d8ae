"""JupyterHub for a class on one machine (``edalab hub up`` / ``make hub`` start it with this).

Settings come from the environment ``edalab hub up`` sets:

=========================  ==============================================================
``EDALAB_CLASS_DIR``       the class folder (``edalab/hub/classroom.py`` describes it)
``EDALAB_HUB_PORT``        the public port on 127.0.0.1 (default 8000; the proxy's API
                           listens on the next one)
``EDALAB_HUB_IP``          the public address (default 127.0.0.1; put TLS in front of it
                           before opening it to a network)
``EDALAB_HUB_SUBNET``      the learners' namespace addresses (default 10.213.0.0/16)
``EDALAB_HUB_TAG``         one character or two telling this hub's namespaces apart (0)
``EDALAB_HUB_UID_BASE``    learners run as this uid plus their hub user id (200000)
``EDALAB_HUB_IDLE``        seconds of inactivity before the culler stops a server (3600)
``EDALAB_HUB_API_TOKEN``   optional: a token for a ``classroom-admin`` service (scripts,
                           the tests, the bench)
=========================  ==============================================================
"""

import os
import sys
from pathlib import Path

from edalab.hub import netns
from edalab.hub.classroom import PROXY, class_dir

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

ROOT = class_dir()
PORT = int(os.environ.get("EDALAB_HUB_PORT", "8000"))
IP = os.environ.get("EDALAB_HUB_IP", "127.0.0.1")
SUBNET = os.environ.get("EDALAB_HUB_SUBNET", "10.213.0.0/16")
IDLE = int(os.environ.get("EDALAB_HUB_IDLE", "3600"))
TAG = os.environ.get("EDALAB_HUB_TAG", "0")
ADDRESSING = netns.Addressing(SUBNET, TAG)
# The hub's own API listens on the gateway address, the only host address a learner's
# namespace can reach; it needs to exist before the hub binds it.
netns.gateway_up(ADDRESSING)
HUB_URL = f"http://{ADDRESSING.gateway}:{PORT + 2}"

c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
c.JupyterHub.hub_bind_url = HUB_URL
c.JupyterHub.db_url = f"sqlite:///{ROOT / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(ROOT / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(ROOT / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # a stopped hub leaves no learner server running
# A spawn request returns at once (the page shows progress), so a script can start a class.
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}

c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.pid_file = str(ROOT / "proxy.pid")

c.JupyterHub.authenticator_class = "edalab.hub.auth.ClassAuthenticator"
c.ClassAuthenticator.accounts_file = str(ROOT / "accounts.json")
c.Authenticator.admin_users = {"instructor"}
c.NativeAuthenticator.open_signup = False          # the instructor approves each sign-up
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 120

c.JupyterHub.spawner_class = "edalab.hub.spawner.LearnerSpawner"
c.LearnerSpawner.class_dir = str(ROOT)
c.LearnerSpawner.subnet = SUBNET
c.LearnerSpawner.hub_tag = TAG
c.LearnerSpawner.uid_base = int(os.environ.get("EDALAB_HUB_UID_BASE", "200000"))
c.LearnerSpawner.hub_connect_url = HUB_URL
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
c.LocalProcessSpawner.interrupt_timeout = 5
c.LocalProcessSpawner.term_timeout = 5

c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={IDLE}",
                f"--cull-every={max(10, min(300, IDLE // 2))}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
if os.environ.get("EDALAB_HUB_API_TOKEN"):
    c.JupyterHub.services.append({"name": "classroom-admin",
                                  "api_token": os.environ["EDALAB_HUB_API_TOKEN"]})
    c.JupyterHub.load_roles.append({
        "name": "classroom-admin",
        "scopes": ["admin:users", "list:users", "admin:servers", "access:servers",
                   "read:users:activity"],
        "services": ["classroom-admin"],
    })
