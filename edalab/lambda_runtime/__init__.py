"""Runs Python Lambda handlers for the embedded emulator: subprocesses, not containers.

Neither moto nor LocalStack runs a handler without Docker; this package does, with the
behaviour AWS documents for the Python runtime:

* every function version gets its own execution environments (``bootstrap.py`` subprocesses):
  environment variables, ``LAMBDA_TASK_ROOT`` holding the unzipped code, a real ``context``;
  module globals survive between invocations (warm starts), as on AWS;
* ``Timeout``: past it the environment is killed and the invocation fails with
  ``Task timed out after N.00 seconds``; ``MemorySize``: above it the environment is killed
  (``Runtime exited with error: signal: killed``); a crash never touches the emulator;
* errors are reported with AWS's payload (``errorMessage``, ``errorType``, ``stackTrace``) and
  AWS's error types (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``,
  ``Runtime.UserCodeSyntaxError``, ``Runtime.MarshalError``, ``Runtime.ExitError``...);
* output (``print``, ``logging``) comes back as CloudWatch Logs events framed by the
  ``START`` / ``END`` / ``REPORT`` lines, one log stream per execution environment.

It knows nothing of moto: ``edalab.aws.lambda_`` builds a ``FunctionSpec`` from moto's model
and hands a ``log_sink`` that writes into moto's Logs backend. ``Pool`` keeps warm
environments per function version and one pre-started *spare* (Python up, boto3 imported) so
even a cold start only pays for importing the handler's module.

Not emulated: runtimes other than Python (the handler runs on the emulator's own Python,
whatever ``Runtime`` says), layers, container images, extensions, SnapStart.
"""

from __future__ import annotations

from .pool import AWS_RESERVED_ENV, FunctionSpec, Pool, Result, Throttled, iso_now

__all__ = ["AWS_RESERVED_ENV", "FunctionSpec", "Pool", "Result", "Throttled", "iso_now"]
