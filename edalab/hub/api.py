"""Drive a class hub from a script: JupyterHub's REST API, and each learner's Jupyter server
through the hub's proxy (contents, kernels, the nbgrader Assignments API).

For instructors' automation, the tests and ``bench/hub.py``. The token is a hub API token
with the ``admin:users``, ``admin:servers`` and ``access:servers`` scopes (the
``classroom-admin`` service of ``classroom/jupyterhub_config.py``).
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import requests
import websocket


class HubError(RuntimeError):
    pass


class Hub:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"
        self.token = token

    # -- hub REST API ------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs):
        resp = self.http.request(method, f"{self.url}/hub/api{path}", timeout=120, **kwargs)
        if resp.status_code >= 400:
            raise HubError(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def wait_up(self, timeout: float = 120) -> None:
        """Until the hub answers its API (it starts its proxy and services first)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.api("GET", "/")
                return
            except (requests.ConnectionError, HubError):
                if time.monotonic() > deadline:
                    raise HubError(f"the hub at {self.url} did not answer within {timeout:.0f} s")
                time.sleep(0.2)

    def create_users(self, names: list[str]) -> None:
        existing = {u["name"] for u in self.api("GET", "/users")}
        missing = [n for n in names if n not in existing]
        if missing:
            self.api("POST", "/users", json={"usernames": missing, "admin": False})

    def user(self, name: str) -> dict:
        return self.api("GET", f"/users/{quote(name)}")

    def spawn(self, name: str) -> None:
        self.api("POST", f"/users/{quote(name)}/server")

    def wait_ready(self, name: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.user(name)
            server = info.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not server and not info.get("pending"):
                raise HubError(f"{name}'s server is not starting (spawn failed; see the hub log)")
            time.sleep(0.2)
        raise HubError(f"{name}'s server was not ready within {timeout:.0f} s")

    def stop(self, name: str, timeout: float = 60) -> None:
        self.api("DELETE", f"/users/{quote(name)}/server")
        deadline = time.monotonic() + timeout
        while self.running(name):
            if time.monotonic() > deadline:
                raise HubError(f"{name}'s server did not stop within {timeout:.0f} s")
            time.sleep(0.2)

    def running(self, name: str) -> bool:
        info = self.user(name)
        return bool(info.get("servers", {}).get("")) or bool(info.get("pending"))

    # -- a learner's server, through the proxy -----------------------------------------------
    def server(self, name: str) -> "Server":
        return Server(self, name)


class Server:
    def __init__(self, hub: Hub, name: str):
        self.hub, self.name = hub, name
        self.base = f"{hub.url}/user/{quote(name)}"

    def call(self, method: str, path: str, **kwargs):
        resp = self.hub.http.request(method, f"{self.base}{path}", timeout=300, **kwargs)
        if resp.status_code >= 400:
            raise HubError(f"{self.name}: {method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    # nbgrader's Assignments tab calls these.
    def fetch(self, course: str, lab: str):
        return self.call("POST", "/assignments/fetch", data={"course_id": course, "assignment_id": lab})

    def submit(self, course: str, lab: str):
        out = self.call("POST", "/assignments/submit", data={"course_id": course, "assignment_id": lab})
        if isinstance(out, dict) and out.get("success") is False:
            raise HubError(f"{self.name}: submit failed: {out.get('value') or out}")
        return out

    def assignments(self, course: str):
        return self.call("GET", "/assignments", params={"course_id": course})

    def read_notebook(self, path: str) -> dict:
        return self.call("GET", f"/api/contents/{quote(path)}", params={"content": 1})["content"]

    def write_notebook(self, path: str, nb: dict) -> None:
        self.call("PUT", f"/api/contents/{quote(path)}", json={"type": "notebook", "content": nb})

    def kernel(self) -> "Kernel":
        return Kernel(self)


class Kernel:
    """One kernel on a learner's server, driven over the Jupyter websocket protocol."""

    def __init__(self, server: Server, name: str = "python3"):
        self.server = server
        self.id = server.call("POST", "/api/kernels", json={"name": name})["id"]
        url = server.base.replace("http", "ws", 1) + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {server.hub.token}"], timeout=300)
        self.session = uuid.uuid4().hex

    def execute(self, code: str, timeout: float = 300) -> dict:
        """Run ``code``; returns {"status", "stdout", "error"} once the kernel is idle again."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": self.server.name, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out = {"status": None, "stdout": "", "error": None}
        deadline = time.monotonic() + timeout
        idle = False
        while not (idle and out["status"]):
            if time.monotonic() > deadline:
                raise HubError(f"{self.server.name}: cell did not finish within {timeout:.0f} s")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out["stdout"] += content.get("text", "")
            elif kind == "error":
                out["error"] = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                out["status"] = content["status"]
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        return out

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.server.call("DELETE", f"/api/kernels/{self.id}")
