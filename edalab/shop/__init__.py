"""The course's running example, small enough to read in one sitting.

The concept notebooks (monolith, events and commands, event sourcing, CQRS) all build on
the same online shop, so these pieces live here once instead of being pasted into every
notebook: the shop's messages, an in-process broker, an event store on SQLite and the
order aggregate. Nothing here needs the embedded stack; later notebooks swap the broker
for SQS, SNS, EventBridge and Kafka and keep the services.
"""

from .broker import Broker, trace_tree
from .eventstore import ConcurrencyError, EventStore, StoredEvent
from .messages import COMMAND_TARGETS, COMMANDS, EVENTS, Message, command, event, kind_of
from .order import Order, fold

__all__ = [
    "Broker", "trace_tree", "EventStore", "StoredEvent", "ConcurrencyError", "Message", "event", "command",
    "kind_of", "EVENTS", "COMMANDS", "COMMAND_TARGETS", "Order", "fold",
]
