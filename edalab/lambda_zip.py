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


LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def ensure_lambda_role(iam, role_name: str = ROLE_NAME,
                       policy_arns: tuple[str, ...] = (BASIC_EXECUTION_POLICY,)) -> str:
    """The execution role functions are created with (idempotent); returns its ARN.

    Lambda refuses a role that does not exist ("The role defined for the function cannot be
    assumed by Lambda"), on AWS and on the embedded stack alike. ``iam`` is a boto3 IAM
    client; ``policy_arns`` are attached (add e.g. AWSLambdaSQSQueueExecutionRole for an SQS
    trigger on AWS).
    """
    import json

    try:
        arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=role_name,
                              AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))["Role"]["Arn"]
    for policy in policy_arns:
        try:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=policy)
        except iam.exceptions.NoSuchEntityException:
            # The embedded emulator does not load AWS managed policies (nor enforce any).
            from .target import current

            if not (policy.startswith("arn:aws:iam::aws:policy/") and current().local):
                raise
    return arn
