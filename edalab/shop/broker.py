"""An in-process broker, so the ideas of event-driven design can be watched in one notebook
before SQS, SNS, EventBridge or Kafka enter the picture.

Each service has its own inbox (like an SQS queue subscribed to an SNS topic): an event is
copied into the inbox of every service that subscribed to it, a command into the inbox of
the one service that handles it. Delivery is a separate step (``deliver``), so a notebook
can stop a service, let messages pile up, and watch the read side lag behind. Two switches
reproduce what real brokers do to consumers: ``duplicates`` (at-least-once delivery) and
``shuffle`` (no ordering guarantee across messages).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Callable, Iterable

from .messages import Message

Handler = Callable[[Message], "Message | Iterable[Message] | None"]


class Broker:
    def __init__(self, *, duplicates: float = 0.0, shuffle: bool = False, seed: int | None = 0):
        if not 0.0 <= duplicates < 1.0:  # 1.0 would redeliver every message forever
            raise ValueError(f"duplicates is a probability in [0, 1), got {duplicates}")
        self.duplicates = duplicates
        self.shuffle = shuffle
        self._rng = random.Random(seed)
        self._handlers: dict[str, dict[str, Handler]] = defaultdict(dict)  # service -> name -> fn
        self._command_owner: dict[str, str] = {}
        self._inbox: dict[str, deque[Message]] = defaultdict(deque)
        self._stopped: set[str] = set()
        self.log: list[Message] = []  # every message published, in order
        self.delivered: list[tuple[str, Message]] = []  # (service, message), in delivery order
        self.failures: list[tuple[str, Message, Exception]] = []

    # -- wiring -------------------------------------------------------------------------
    def subscribe(self, service: str, event_name: str, handler: Handler) -> None:
        """Let `service` react to every `event_name`; any number of services may."""
        self._handlers[service][event_name] = handler

    def handle(self, service: str, command_name: str, handler: Handler) -> None:
        """Make `service` the one target of `command_name`."""
        owner = self._command_owner.get(command_name)
        if owner is not None and owner != service:
            raise ValueError(f"{command_name} already goes to {owner!r}: a command has exactly one "
                             f"target; publish an event instead if several services must react")
        self._command_owner[command_name] = service
        self._handlers[service][command_name] = handler

    def target(self, command_name: str) -> str | None:
        """The one service that handles `command_name` (None if nobody does yet)."""
        return self._command_owner.get(command_name)

    def consumers(self, message_name: str) -> list[str]:
        return sorted(s for s, names in self._handlers.items() if message_name in names)

    # -- sending ------------------------------------------------------------------------
    def publish(self, message: Message) -> list[str]:
        """Put `message` in the inbox of every service it goes to; return those services."""
        if not isinstance(message, Message):
            raise TypeError(f"publish takes a shop Message (event(...) or command(...)), got {message!r}")
        if message.kind == "command":
            owner = self._command_owner.get(message.name)
            if owner is None:
                raise LookupError(f"no service handles the command {message.name}; register one with "
                                  f"broker.handle(service, {message.name!r}, handler)")
            targets = [owner]
        else:
            targets = self.consumers(message.name)
        self.log.append(message)
        for service in targets:
            self._inbox[service].append(message)
        return targets

    # -- consumers ----------------------------------------------------------------------
    def stop(self, service: str) -> None:
        """The service is down: its messages wait in its inbox instead of being lost."""
        self._stopped.add(service)

    def start(self, service: str) -> None:
        self._stopped.discard(service)

    def pending(self, service: str | None = None) -> int:
        if service is not None:
            return len(self._inbox[service])
        return sum(len(q) for q in self._inbox.values())

    def deliver(self, max_messages: int | None = None) -> int:
        """Hand queued messages to running services until none are left (or `max_messages`).

        Messages a handler returns are published with the same correlation. A handler that
        raises leaves its message in the inbox (recorded in `failures`) for a later try.
        Returns how many messages were handled.
        """
        handled = 0
        progress = True
        while progress and (max_messages is None or handled < max_messages):
            progress = False
            for service in sorted(self._inbox):
                queue = self._inbox[service]
                if service in self._stopped or not queue:
                    continue
                if self.shuffle:
                    queue.rotate(-self._rng.randrange(len(queue)))
                message = queue.popleft()
                handler = self._handlers[service][message.name]
                try:
                    produced = handler(message)
                except Exception as exc:  # the message waits for the next deliver()
                    queue.appendleft(message)
                    self.failures.append((service, message, exc))
                    continue
                self.delivered.append((service, message))
                if self.duplicates and self._rng.random() < self.duplicates:
                    queue.append(message)  # at-least-once: the same message comes again
                for new in _as_messages(produced):
                    self.publish(new)
                handled += 1
                progress = True
                if max_messages is not None and handled >= max_messages:
                    break
        return handled

    def trace(self, correlation_id: str) -> list[Message]:
        """Every message of one business action, in the order they were created."""
        return sorted((m for m in self.log if m.correlation_id == correlation_id), key=lambda m: m.seq)


def _as_messages(produced) -> list[Message]:
    if produced is None:
        return []
    if isinstance(produced, Message):
        return [produced]
    out = list(produced)
    for item in out:
        if not isinstance(item, Message):
            raise TypeError(f"a handler may return a Message, a list of them or None, got {item!r}")
    return out


def trace_tree(messages: Iterable[Message]) -> str:
    """The causation chain of one action as an indented text tree (a tiny trace view)."""
    messages = list(messages)
    children: dict[str | None, list[Message]] = defaultdict(list)
    ids = {m.message_id for m in messages}
    for m in sorted(messages, key=lambda m: m.seq):
        children[m.causation_id if m.causation_id in ids else None].append(m)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for m in children.get(parent, []):
            lines.append(f"{'  ' * depth}{'└─ ' if depth else ''}{m.kind} {m.name} [{m.message_id}]")
            walk(m.message_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)
