"""NativeAuthenticator (accounts and bcrypt passwords in the hub's database, sign-up that the
instructor approves at /hub/authorize), plus the class list the instructor generated.

``edalab hub up --learners N`` writes ``accounts.json`` in the class folder (readable by
root only, never mounted into a sandbox); each account there that the database does not
hold yet is created, already approved, when the hub starts. Learners can change their
password at /hub/change-password; everything else is NativeAuthenticator's own.
"""

from __future__ import annotations

import json
from pathlib import Path

from nativeauthenticator import NativeAuthenticator
from traitlets import Unicode


class ClassAuthenticator(NativeAuthenticator):
    accounts_file = Unicode("", help="JSON {name: password} to create at start-up").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        path = Path(self.accounts_file) if self.accounts_file else None
        if not (path and path.is_file() and self.db is not None):
            return
        for name, password in json.loads(path.read_text()).items():
            if not self.user_exists(name):
                self.allowed_users.add(name)
                self.create_user(name, password)
