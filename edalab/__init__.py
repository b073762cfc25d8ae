"""EDA Lab Workbook runtime: clients for the chosen target, the local lab stack, widgets.

In a notebook::

    import edalab
    sqs = edalab.client("sqs")            # the embedded stack, compose, or AWS
    conf = edalab.kafka_config(group_id="shop")
"""

from .clients import client, kafka_config, resource, session, topic
from .lambda_zip import lambda_role_arn, zip_handler
from .errors import ConfigError, EdalabError, NonLoopbackEndpoint, PortInUse, StackNotRunning
from .target import current as current_target
from .capabilities import capabilities, has_lambda

__all__ = [
    "client", "resource", "zip_handler", "lambda_role_arn", "session", "kafka_config", "topic", "current_target",
    "capabilities", "has_lambda",
    "EdalabError", "ConfigError", "StackNotRunning", "PortInUse", "NonLoopbackEndpoint",
]
__version__ = "0.1.0"


def _install_notebook_errors() -> None:
    """In IPython, show connection failures as one line naming the fix, not a stack trace."""
    try:
        ip = get_ipython()  # noqa: F821 - defined only inside IPython
    except NameError:
        return
    from botocore.exceptions import EndpointConnectionError

    def handler(shell, etype, value, tb, tb_offset=None):
        # Shown as the cell's error (Run All stops here) whose whole text is the fix,
        # instead of a botocore stack trace.
        if issubclass(etype, EdalabError):
            line = f"{etype.__name__}: {value}"
        else:
            from .target import current

            t = current()
            url = getattr(value, "kwargs", {}).get("endpoint_url", t.aws_endpoint)
            line = f"StackNotRunning: could not reach {url}. {t.fix_hint()}"
        show = getattr(shell, "_showtraceback", None)
        if show is not None:
            show(etype, value, [line])
        else:
            print(line)
        return None

    ip.set_custom_exc((EdalabError, EndpointConnectionError), handler)
    from .capabilities import register_magic

    register_magic(ip)  # %%needs_lambda


_install_notebook_errors()
