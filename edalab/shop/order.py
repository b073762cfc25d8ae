"""The order aggregate, written as a fold: state is never stored, it is what you get by
applying an order's events one after another. The same function serves rebuilding from
scratch, from a snapshot, and "as of" a past date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field


@dataclass
class Order:
    order_id: str = ""
    status: str = "new"  # new -> placed -> paid / payment_failed -> reserved -> shipped
    customer: str = ""
    items: dict = field(default_factory=dict)
    total: int = 0  # in cents, so sums stay exact
    paid: int = 0
    version: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def apply(order: Order, name: str, data: dict) -> Order:
    """One event's effect on an order, as a new Order (the old one is left untouched)."""
    o = Order(**{**order.to_dict(), "items": dict(order.items)})
    if name == "OrderPlaced":
        o.order_id, o.status = data["order_id"], "placed"
        o.customer, o.items, o.total = data.get("customer", ""), dict(data["items"]), data["total"]
    elif name == "PaymentTaken":
        o.status, o.paid = "paid", o.paid + data.get("amount", o.total)  # default: the full total
    elif name == "PaymentFailed":
        o.status = "payment_failed"
    elif name == "StockReserved":
        o.status = "reserved"
    elif name == "OrderShipped":
        o.status = "shipped"
    # Unknown events are ignored: other services may add events an order does not care about.
    o.version += 1
    return o


def fold(events: Iterable, start: Order | dict | None = None) -> Order:
    """Apply events (StoredEvents, Messages or (name, data) pairs) in order to `start`."""
    order = Order(**start) if isinstance(start, dict) else (start or Order())
    for e in events:
        name, data = (e.name, e.data) if hasattr(e, "name") else e
        order = apply(order, name, data)
        if hasattr(e, "version"):
            order.version = e.version
    return order
