"""What the target can do that not every target can: run Lambda functions, answer the MSK API.

The embedded stack and AWS have both. LocalStack (the ``compose`` target) answers the Lambda
API everywhere but runs a function only where it can start Docker containers: started from
PyPI in host mode, or in a container without the Docker socket, every new function goes to
state ``Failed``. Its MSK API is Pro only. A notebook cell that needs Lambda therefore starts
with the ``%%needs_lambda`` cell magic (``%%needs_msk_api`` for the MSK API, ``%%needs_iam``
for a cell that shows a permission AWS refuses; all registered
when ``edalab`` is imported in IPython): on a target without it the cell prints one line
saying so and runs nothing, instead of failing half-way with a waiter error.

Lambda is found out by asking, not by guessing from the target's name: a throw-away function
is created once per process and its state read (``Active`` or ``Failed``), then deleted.
``EDALAB_LAMBDA=0`` or ``1`` overrides the probe (e.g. to skip the Lambda cells on purpose).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from . import target as _target

SKIP_LINE = ("Skipped: the {target} target runs no Lambda functions here ({why}); this cell "
             "needs Lambda. On the embedded stack, on AWS, or on LocalStack with Docker it runs.")
MSK_SKIP_LINE = ("Skipped: the {target} target has no MSK API (LocalStack's is Pro only); this cell "
                 "needs it. The Kafka broker itself is used directly.")
IAM_SKIP_LINE = ("Skipped: the {target} target does not enforce permissions ({why}); this cell "
                 "shows what AWS refuses. On AWS, or on the embedded stack without EDALAB_IAM=off, "
                 "it runs.")
_PROBE_SOURCE = "def lambda_handler(event, context):\n    return event\n"


@dataclass(frozen=True)
class Capabilities:
    lambda_: bool
    msk_api: bool
    why_no_lambda: str = ""
    iam: bool = True              # queue/topic/function policies and execution roles enforced
    why_no_iam: str = ""


_cache: dict[tuple, Capabilities] = {}


def _env_flag(name: str) -> bool | None:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("0", "no", "false"):
        return False
    if raw in ("1", "yes", "true"):
        return True
    return None


def _probe_lambda(target: _target.Target) -> tuple[bool, str]:
    """Create a function and read whether it becomes Active; (ok, reason when not)."""
    from .clients import client
    from .lambda_zip import lambda_role_arn, zip_handler

    lam = client("lambda", target=target)
    name = f"edalab-capability-probe-{uuid.uuid4().hex[:8]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=lambda_role_arn(target.account_id or _target.DEFAULT_ACCOUNT_ID),
                        Handler="handler.lambda_handler",
                        Code={"ZipFile": zip_handler(_PROBE_SOURCE)})
    try:
        try:
            lam.get_waiter("function_active_v2").wait(
                FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 180})
            return True, ""
        except Exception:  # the waiter stops on Failed
            state = lam.get_function_configuration(FunctionName=name).get("State")
            return False, f"a new function goes to state {state}: LocalStack runs functions in Docker"
    finally:
        try:
            lam.delete_function(FunctionName=name)
        except Exception:  # LocalStack answers 500, then 404, for a Failed function it removes
            pass


def capabilities(target: _target.Target | None = None) -> Capabilities:
    """The target's capabilities, probed once per process and endpoint."""
    target = target or _target.current()
    key = (target.name, target.aws_endpoint, target.account_id)
    if key in _cache:
        return _cache[key]
    msk_api = target.name != "compose"  # LocalStack's MSK API is Pro only
    forced = _env_flag("EDALAB_LAMBDA")
    if forced is not None:
        caps = Capabilities(forced, msk_api, "" if forced else "EDALAB_LAMBDA=0")
    elif target.name != "compose":
        caps = Capabilities(True, msk_api)
    else:
        ok, why = _probe_lambda(target)
        caps = Capabilities(ok, msk_api, why)
    iam, why_no_iam = _enforces_iam(target)
    caps = Capabilities(caps.lambda_, caps.msk_api, caps.why_no_lambda, iam, why_no_iam)
    _cache[key] = caps
    return caps


def _enforces_iam(target: _target.Target) -> tuple[bool, str]:
    """AWS always does; the embedded stack says so in its health answer (``EDALAB_IAM=off``
    switches it off); LocalStack's IAM enforcement is not part of its free edition."""
    if target.name == "aws":
        return True, ""
    if target.name == "compose":
        return False, "LocalStack does not enforce IAM policies"
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{target.aws_endpoint}/_edalab/health", timeout=5) as resp:
            mode = json.load(resp).get("iam", "off")
    except (OSError, ValueError):
        return False, "the emulator did not answer its health check"
    return mode == "enforced", "" if mode == "enforced" else "EDALAB_IAM=off"


def has_iam() -> bool:
    """True where permissions are enforced; otherwise prints the one-line skip notice."""
    caps = capabilities()
    if not caps.iam:
        print(IAM_SKIP_LINE.format(target=_target.current().name, why=caps.why_no_iam))
    return caps.iam


def has_lambda() -> bool:
    """True where a Lambda function runs; otherwise prints the one-line skip notice."""
    caps = capabilities()
    if not caps.lambda_:
        print(SKIP_LINE.format(target=_target.current().name, why=caps.why_no_lambda))
    return caps.lambda_


def has_msk_api() -> bool:
    """True where the MSK control plane answers; otherwise prints the one-line skip notice."""
    if not capabilities().msk_api:
        print(MSK_SKIP_LINE.format(target=_target.current().name))
        return False
    return True


def register_magic(shell) -> None:
    """``%%needs_lambda`` / ``%%needs_msk_api``: run the cell where the target can, else print
    the skip line."""
    import ast

    def run(cell):
        # Run the body in the notebook's namespace so its names stay defined; an exception
        # propagates and fails the cell as it would without the magic.
        tree = ast.parse(shell.transform_cell(cell))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<cell>", "exec"), shell.user_ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), shell.user_ns)
            if value is not None:
                shell.displayhook(value)

    def needs_lambda(line, cell):
        if has_lambda():
            run(cell)

    def needs_msk_api(line, cell):
        if has_msk_api():
            run(cell)

    def needs_iam(line, cell):
        if has_iam():
            run(cell)

    shell.register_magic_function(needs_lambda, magic_kind="cell")
    shell.register_magic_function(needs_msk_api, magic_kind="cell")
    shell.register_magic_function(needs_iam, magic_kind="cell")
