"""Packaging a Lambda function from source text, so a notebook cell can hold the handler.

AWS wants a zip; learners should see their handler's code, not build zips by hand.
"""

from __future__ import annotations

import io
import textwrap
import zipfile

# Any role ARN in the learner's account works on the local targets; on AWS the lab's setup
# cell creates this role. `{account}` is filled in by lambda_role_arn().
ROLE_NAME = "edalab-lambda-role"


def lambda_role_arn(account_id: str = "123456789012") -> str:
    return f"arn:aws:iam::{account_id}:role/{ROLE_NAME}"


def zip_handler(source: str, module: str = "handler", extra_files: dict[str, str] | None = None) -> bytes:
    """A deployment package (zip bytes) with ``source`` as ``<module>.py``.

    ``zip_handler(code)`` pairs with ``Handler="handler.lambda_handler"``.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{module}.py", textwrap.dedent(source))
        for name, text in (extra_files or {}).items():
            zf.writestr(name, text)
    return buf.getvalue()
