"""The shop's messages: domain events (something happened) and commands (do this).

Every message carries three ids because in an event-driven system one click fans out into
many messages handled by many services, and without them nobody can say which messages
belong to which action: ``message_id`` names this message, ``correlation_id`` is shared by
every message of one business action, and ``causation_id`` names the message that directly
caused this one (None for the first).
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field

EVENTS = frozenset({"OrderPlaced", "PaymentTaken", "PaymentFailed", "StockReserved", "OrderShipped"})
COMMANDS = frozenset({"ReserveStock", "TakePayment", "ShipOrder", "SendEmail"})
# A command has exactly one target service; an event has zero or more consumers.
COMMAND_TARGETS = {"ReserveStock": "inventory", "TakePayment": "payments",
                   "ShipOrder": "shipping", "SendEmail": "notifications"}

_counter = itertools.count(1)


@dataclass(frozen=True)
class Message:
    name: str
    kind: str  # "event" or "command"
    data: dict = field(default_factory=dict)
    message_id: str = ""
    correlation_id: str = ""
    causation_id: str | None = None
    at: float = 0.0
    seq: int = 0  # creation order inside this process, so traces sort stably

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name} {self.data} id={self.message_id}>"


def kind_of(name: str) -> str:
    """'event' or 'command' for one of the shop's message names."""
    if name in EVENTS:
        return "event"
    if name in COMMANDS:
        return "command"
    raise ValueError(f"{name!r} is not one of the shop's messages; events: {sorted(EVENTS)}, "
                     f"commands: {sorted(COMMANDS)}")


def _make(kind: str, name: str, data: dict | None, caused_by: Message | None) -> Message:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a message needs a non-empty name, got {name!r}")
    if data is not None and not isinstance(data, dict):
        raise TypeError(f"message data must be a dict, got {type(data).__name__}")
    if caused_by is not None and not isinstance(caused_by, Message):
        raise TypeError(f"caused_by must be the Message that caused this one, got {caused_by!r}")
    message_id = uuid.uuid4().hex[:8]
    return Message(
        name=name, kind=kind, data=dict(data or {}), message_id=message_id,
        correlation_id=caused_by.correlation_id if caused_by else message_id,
        causation_id=caused_by.message_id if caused_by else None,
        at=time.time(), seq=next(_counter),
    )


def event(name: str, data: dict | None = None, *, caused_by: Message | None = None) -> Message:
    """A domain event: a fact in the past tense that any number of services may react to."""
    return _make("event", name, data, caused_by)


def command(name: str, data: dict | None = None, *, caused_by: Message | None = None) -> Message:
    """A command: a request addressed to exactly one service to do something next."""
    return _make("command", name, data, caused_by)
