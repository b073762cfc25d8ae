"""The errors a learner can meet, each with a message that names the fix.

A learner who sees a botocore connection stack trace learns nothing; one who reads
"run `edalab up`" is unblocked.
"""


class EdalabError(Exception):
    """Base class: every message says what happened and what to do about it."""


class ConfigError(EdalabError):
    """The target configuration (environment variables) is invalid."""


class StackNotRunning(EdalabError):
    """A client was used while the services of the chosen target are not answering."""


class PortInUse(EdalabError):
    """A port the stack needs is taken by another process."""


class NonLoopbackEndpoint(EdalabError):
    """A local target was asked to send a request off this machine."""
