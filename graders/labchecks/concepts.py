"""Checks for the concept labs (01-04: monolith, events and commands, event sourcing, CQRS).

These labs run entirely in the learner's kernel: plain Python, SQLite and the course's
``edalab.shop`` pieces, no AWS. The given services of lab 01 live here too, so the lab and
its checks use the very same code. Each ``check_*`` calls the learner's function on fresh
inputs and turns every surprise (``NotImplementedError`` of a blank cell, a wrong value, an
unexpected exception) into a ``LabCheckError`` that says what went wrong and how to fix it.
"""

from __future__ import annotations

import random
import sqlite3

from edalab.shop import Broker, ConcurrencyError, EventStore, command, event

from . import LabCheckError, check

# ---------------------------------------------------------------------------------------
# helpers


def need(namespace: dict, name: str, task: str):
    """The notebook value `name`, or a LabCheckError saying which cell to complete and run."""
    if name not in namespace:
        raise LabCheckError(f"`{name}` is not defined yet: complete and run the cell of {task}, "
                            "then run this check again.")
    return namespace[name]


def call(fn, *args, what: str, **kwargs):
    """Call the learner's `fn`; turn an unexpected exception into a LabCheckError."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise LabCheckError(f"{what}: NotImplementedError. Replace `raise NotImplementedError()` with your "
                            "code in this task's cell (and in any earlier task's function it uses), run the "
                            "cell again, then this check.") from None
    except LabCheckError:
        raise
    except Exception as exc:
        raise LabCheckError(f"{what} raised {type(exc).__name__}: {exc}. It should not fail here; "
                            "read the task text again and run your function on this input yourself.") from None


def expect_raise(exc_types, fn, *args, what: str, fix: str, **kwargs):
    """Call `fn`, which must raise one of `exc_types`; return the exception."""
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise LabCheckError(f"{what}: the function still raises NotImplementedError. Replace "
                            "`raise NotImplementedError()` with your code.") from None
    except exc_types as exc:
        return exc
    except Exception as exc:
        names = " or ".join(t.__name__ for t in (exc_types if isinstance(exc_types, tuple) else (exc_types,)))
        raise LabCheckError(f"{what} raised {type(exc).__name__} ({exc}), expected {names}. {fix}") from None
    names = " or ".join(t.__name__ for t in (exc_types if isinstance(exc_types, tuple) else (exc_types,)))
    raise LabCheckError(f"{what} returned normally, but it should raise {names}. {fix}")


# ---------------------------------------------------------------------------------------
# lab01_monolith: the given services

PRICES = {"mug": 900, "tee": 1500, "cap": 1200}  # cents
START_STOCK = {"mug": 10, "tee": 5, "cap": 3}


class CardDeclined(Exception):
    """The payment provider refused the card: a business failure, never worth retrying."""


def open_shop_db() -> sqlite3.Connection:
    """The monolith's one database (Python's default transaction handling: `with db:`)."""
    db = sqlite3.connect(":memory:")
    db.executescript("""
        CREATE TABLE stock    (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty >= 0));
        CREATE TABLE orders   (order_id INTEGER PRIMARY KEY, customer TEXT, total INTEGER);
        CREATE TABLE payments (order_id INTEGER, amount INTEGER);
    """)
    db.executemany("INSERT INTO stock VALUES (?, ?)", START_STOCK.items())
    db.commit()
    return db


def reserve_stock(db, items: dict) -> None:
    for sku, qty in items.items():
        db.execute("UPDATE stock SET qty = qty - ? WHERE sku = ?", (qty, sku))  # CHECK refuses < 0


def take_payment(db, order_id: int, amount: int, card: str) -> None:
    if card == "declined":
        raise CardDeclined(f"card refused for {amount} cents")
    db.execute("INSERT INTO payments VALUES (?, ?)", (order_id, amount))


def rows(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def qty(db, sku: str) -> int:
    return db.execute("SELECT qty FROM stock WHERE sku = ?", (sku,)).fetchone()[0]


class Network:
    """Calls between services. `failure_rate` fails calls at random (seeded); `fail_calls`
    fails exactly those call numbers (1 = the first call), for repeatable scenarios."""

    def __init__(self, failure_rate: float = 0.0, seed: int = 1, fail_calls=(), latency_ms: int = 20):
        self.failure_rate, self.fail_calls, self.latency_ms = failure_rate, set(fail_calls), latency_ms
        self.rng = random.Random(seed)
        self.calls = 0
        self.clock_ms = 0

    def call(self, fn, *args):
        self.calls += 1
        self.clock_ms += self.latency_ms
        if self.calls in self.fail_calls or self.rng.random() < self.failure_rate:
            raise ConnectionError(f"network: {getattr(fn, '__qualname__', fn)} timed out")
        return fn(*args)


class Inventory:
    """The inventory service: its own database, reachable only through the network."""

    def __init__(self, stock: dict | None = None):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER CHECK (qty >= 0))")
        self.db.executemany("INSERT INTO stock VALUES (?, ?)", (stock or START_STOCK).items())
        self.db.commit()

    def reserve(self, items: dict) -> None:
        with self.db:
            reserve_stock(self.db, items)

    def release(self, items: dict) -> None:
        with self.db:
            for sku, n in items.items():
                self.db.execute("UPDATE stock SET qty = qty + ? WHERE sku = ?", (n, sku))

    def qty(self, sku: str) -> int:
        return qty(self.db, sku)


class Payments:
    """The payments service: remembers every charge as (order_id, amount)."""

    def __init__(self):
        self.charges: list[tuple] = []

    def take(self, order_id, amount: int, card: str = "ok") -> None:
        if card == "declined":
            raise CardDeclined(f"card refused for {amount} cents")
        self.charges.append((order_id, amount))


class Flaky:
    """A remote call that times out `fail_times` times, then answers "done"."""

    def __init__(self, fail_times: int, error=ConnectionError):
        self.fail_times, self.error, self.calls = fail_times, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.fail_times:
            raise self.error("timed out" if self.error is ConnectionError else "card refused")
        return "done"


# lab01 task 1 ---------------------------------------------------------------------------
def check_monolith_order(place_order) -> None:
    db = open_shop_db()
    order_id = call(place_order, db, "ada", {"mug": 2}, "ok", what="place_order(db, 'ada', {'mug': 2}, 'ok')")
    check(rows(db, "orders") == 1, f"After one good order the orders table has {rows(db, 'orders')} rows, "
          "expected 1. Insert the order row inside place_order.")
    check(qty(db, "mug") == 8, f"After ordering 2 mugs the stock is {qty(db, 'mug')}, expected 8. "
          "Call reserve_stock(db, items).")
    paid = db.execute("SELECT order_id, amount FROM payments").fetchall()
    check(paid == [(order_id, 1800)], f"payments holds {paid}, expected [({order_id!r}, 1800)]: call "
          "take_payment(db, order_id, total, card) with the new order's id and the total in cents.")
    db.rollback()
    check(rows(db, "orders") == 1, "The order disappeared on db.rollback(): place_order must commit "
          "(use `with db:` around the whole checkout).")
    expect_raise(CardDeclined, place_order, db, "bob", {"tee": 1}, "declined",
                 what="place_order(..., card='declined')",
                 fix="Let the CardDeclined from take_payment propagate (after the rollback).")
    check(rows(db, "orders") == 1 and qty(db, "tee") == 5 and rows(db, "payments") == 1,
          "A declined card left traces (an order row or reserved stock). Wrap the whole checkout in ONE "
          "transaction (`with db:`) so an exception rolls everything back.")


def check_monolith_rollback(place_order) -> None:
    db = open_shop_db()
    expect_raise(sqlite3.IntegrityError, place_order, db, "cy", {"mug": 1, "cap": 99}, "ok",
                 what="ordering 99 caps (only 3 in stock)",
                 fix="Let the database's IntegrityError (the stock CHECK) propagate.")
    check(qty(db, "mug") == 10 and rows(db, "orders") == 0,
          f"Ordering 1 mug and 99 caps failed, yet the mug stock is {qty(db, 'mug')} (expected 10) and there "
          f"are {rows(db, 'orders')} orders (expected 0): the whole checkout must be one transaction.")
    a = call(place_order, db, "ada", {"cap": 1}, "ok", what="place_order")
    b = call(place_order, db, "bob", {"cap": 1}, "ok", what="place_order")
    check(a != b and rows(db, "orders") == 2, "Two orders must get two different order ids: return "
          "the new row's id (cursor.lastrowid).")


# lab01 task 2 ---------------------------------------------------------------------------
def check_retry(call_with_retry) -> None:
    flaky = Flaky(2)
    result = call(call_with_retry, flaky, attempts=3, what="call_with_retry(call, attempts=3) on a call that "
                  "times out twice")
    check(result == "done", f"call_with_retry returned {result!r}; return what the call returns ('done').")
    check(flaky.calls == 3, f"The call was made {flaky.calls} times, expected 3 (two timeouts, one success).")
    down = Flaky(10)
    expect_raise(ConnectionError, call_with_retry, down, attempts=3, what="a call that always times out",
                 fix="After the last attempt, re-raise the ConnectionError.")
    check(down.calls == 3, f"With attempts=3 the call was made {down.calls} times, expected exactly 3.")


def check_retry_more(call_with_retry) -> None:
    declined = Flaky(5, error=CardDeclined)
    expect_raise(CardDeclined, call_with_retry, declined, attempts=3, what="a declined card",
                 fix="Retry only ConnectionError; let other exceptions through at once.")
    check(declined.calls == 1, f"A declined card was retried ({declined.calls} calls): only network "
          "failures (ConnectionError) are worth retrying; a retry will not un-decline a card.")
    once = Flaky(1)
    expect_raise(ConnectionError, call_with_retry, once, attempts=1, what="attempts=1",
                 fix="attempts counts every call, the first one included.")
    check(once.calls == 1, f"attempts=1 made {once.calls} calls, expected 1.")
    default = Flaky(2)
    check(call(call_with_retry, default, what="call_with_retry(call) with the default attempts") == "done"
          and default.calls == 3, "The default should be attempts=3.")


# lab01 task 3 ---------------------------------------------------------------------------
def _saga(checkout_saga, net, inventory, payments, order_id, items, card="ok"):
    return call(checkout_saga, net, inventory, payments, order_id, items, card,
                what=f"checkout_saga(..., {order_id!r}, {items}, card={card!r})")


def check_saga(checkout_saga) -> None:
    net, inventory, payments = Network(), Inventory(), Payments()
    outcome = _saga(checkout_saga, net, inventory, payments, 1, {"cap": 2})
    check(outcome == "confirmed", f"A good order returned {outcome!r}, expected 'confirmed'.")
    check(inventory.qty("cap") == 1 and payments.charges == [(1, 2400)],
          f"After a confirmed order of 2 caps: stock {inventory.qty('cap')} (expected 1), charges "
          f"{payments.charges} (expected [(1, 2400)]). Reserve through net.call(inventory.reserve, items), "
          "then net.call(payments.take, order_id, total, card).")
    check(net.calls >= 2, "Call the services through net.call(...), not directly: they are remote.")
    outcome = _saga(checkout_saga, net, inventory, payments, 2, {"cap": 1}, "declined")
    check(outcome == "cancelled", f"A declined card returned {outcome!r}, expected 'cancelled'.")
    check(inventory.qty("cap") == 1, f"After a declined card the cap stock is {inventory.qty('cap')}, expected 1: "
          "compensate the reservation with inventory.release(items).")
    net, inventory, payments = Network(failure_rate=0.3, seed=5), Inventory({"mug": 1000}), Payments()
    outcomes = [_saga(checkout_saga, net, inventory, payments, i, {"mug": 1}) for i in range(60)]
    stranded = (1000 - inventory.qty("mug")) - len(payments.charges)
    check(stranded >= 0, f"With a flaky network the mug stock grew by {-stranded} beyond what was sold: you "
          "released stock for reservations that had failed. Compensate only the steps that succeeded "
          "(never release stock you never reserved).")
    check(stranded == 0, f"With a flaky network {stranded} reservations were left without a payment: "
          "catch ConnectionError as well as CardDeclined and release the stock in both cases.")
    check(outcomes.count("confirmed") == len(payments.charges),
          "The number of 'confirmed' orders must equal the number of charges.")


def check_saga_more(checkout_saga) -> None:
    net, inventory, payments = Network(fail_calls={1}), Inventory(), Payments()
    outcome = _saga(checkout_saga, net, inventory, payments, 1, {"tee": 2})
    check(outcome == "cancelled", f"When the reservation itself times out the saga returned {outcome!r}, "
          "expected 'cancelled'.")
    check(inventory.qty("tee") == 5, f"The reservation failed, yet the tee stock is {inventory.qty('tee')} (expected 5): "
          "compensate only the steps that succeeded - do not release stock you never reserved.")
    check(payments.charges == [], "The reservation failed, yet a payment was taken: stop at the first failure.")
    net, inventory, payments = Network(fail_calls={2}), Inventory(), Payments()
    outcome = _saga(checkout_saga, net, inventory, payments, 2, {"tee": 2})
    check(outcome == "cancelled" and inventory.qty("tee") == 5,
          f"Payment timed out: outcome {outcome!r}, tee stock {inventory.qty('tee')}; expected 'cancelled' and 5.")


# ---------------------------------------------------------------------------------------
# lab02_events_commands

SHOP_KINDS = {"OrderPlaced": "event", "PaymentTaken": "event", "PaymentFailed": "event",
              "StockReserved": "event", "OrderShipped": "event", "ReserveStock": "command",
              "TakePayment": "command", "ShipOrder": "command", "SendEmail": "command"}
NEW_KINDS = {"RefundIssued": "event", "CancelOrder": "command", "InvoiceSent": "event",
             "NotifyCourier": "command"}


def _check_kinds(kinds, expected: dict) -> None:
    check(isinstance(kinds, dict), f"KINDS should be a dict from message name to 'event' or 'command', "
          f"got {type(kinds).__name__}.")
    for name, kind in expected.items():
        check(name in kinds, f"KINDS has no entry for {name!r}: add it.")
        got = kinds[name]
        check(got == kind, f"KINDS[{name!r}] is {got!r}, but it is a {kind}: "
              + ("something that already happened, told to whoever cares (past tense)." if kind == "event"
                 else "a request to one specific service to do something (imperative)."))


def check_kinds(kinds) -> None:
    _check_kinds(kinds, SHOP_KINDS)


def check_kinds_more(kinds) -> None:
    _check_kinds(kinds, NEW_KINDS)


def _no_failures(broker) -> None:
    if broker.failures:
        service, message, exc = broker.failures[0]
        raise LabCheckError(f"Your {service} handler raised {type(exc).__name__}: {exc} on {message.name} "
                            f"{message.data}. A handler must not fail on a valid message.")


def _wired(wire):
    broker, seen = Broker(), []
    call(wire, broker, seen, what="wire(broker, seen)")
    return broker, seen


def check_wiring(wire) -> None:
    broker, seen = _wired(wire)
    consumers = broker.consumers("OrderPlaced")
    check(consumers == ["analytics", "notifications"], f"OrderPlaced goes to {consumers}, expected "
          "['analytics', 'notifications']: broker.subscribe(service, 'OrderPlaced', handler) for each.")
    check(broker.target("ReserveStock") == "inventory", "ReserveStock must have exactly one target, "
          "'inventory': register it with broker.handle('inventory', 'ReserveStock', handler) - commands are "
          "handled, events are subscribed to.")
    placed = event("OrderPlaced", {"order_id": "o1"})
    broker.publish(placed)
    call(broker.deliver, what="delivering OrderPlaced to your handlers")
    _no_failures(broker)
    check(sorted(seen) == [("analytics", "OrderPlaced"), ("notifications", "OrderPlaced")],
          f"After one OrderPlaced, seen is {seen}; each subscriber should append (its service name, "
          "message.name).")


def check_wiring_more(wire) -> None:
    broker, _seen = _wired(wire)
    reserve = command("ReserveStock", {"order_id": "o7", "items": {"mug": 1}})
    call(broker.publish, reserve, what="publishing ReserveStock")
    call(broker.deliver, what="delivering ReserveStock to inventory")
    _no_failures(broker)
    replies = [m for m in broker.log if m.name == "StockReserved"]
    check(len(replies) == 1, f"inventory published {len(replies)} StockReserved events for one ReserveStock, "
          "expected 1: return event('StockReserved', ..., caused_by=message) from its handler.")
    reply = replies[0]
    check(reply.kind == "event", "StockReserved is an event: build it with event(...), not command(...).")
    check(reply.causation_id == reserve.message_id and reply.correlation_id == reserve.correlation_id,
          "StockReserved must carry the command's correlation and point at it as its cause: pass "
          "caused_by=message.")
    check(reply.data.get("order_id") == "o7", "StockReserved should carry the command's data (order_id).")


class _CommandFor:
    @staticmethod
    def take(order_id):
        return command("TakePayment", {"order_id": order_id})


def _payments(cls):
    payments = call(cls, what="IdempotentPayments()")
    check(callable(getattr(payments, "handle", None)) and isinstance(getattr(payments, "charges", None), list),
          "IdempotentPayments() needs a method handle(message) and an attribute charges = [] (set in __init__).")
    return payments


def check_idempotent(cls) -> None:
    payments = _payments(cls)
    first, second = _CommandFor.take("o1"), _CommandFor.take("o2")
    for m in (first, first, second):
        call(payments.handle, m, what="IdempotentPayments().handle(message)")
    charges = getattr(payments, "charges", None)
    check(charges == ["o1", "o2"], f"After TakePayment o1, the same message again, then o2: charges is "
          f"{charges}, expected ['o1', 'o2']. Remember each message_id you handled and skip repeats.")


def check_idempotent_more(cls) -> None:
    payments = _payments(cls)
    broker = Broker(duplicates=0.4, seed=11)
    broker.handle("payments", "TakePayment", payments.handle)
    for i in range(30):
        broker.publish(_CommandFor.take(f"o{i}"))
    call(broker.deliver, what="delivering 30 TakePayment commands with duplicates")
    _no_failures(broker)
    check(sorted(payments.charges) == sorted(f"o{i}" for i in range(30)),
          f"With at-least-once delivery ({len(broker.delivered)} deliveries for 30 commands) you charged "
          f"{len(payments.charges)} times, expected 30: skip messages whose message_id you have seen.")


def _shop_run(seed: int):
    broker = Broker()
    broker.subscribe("orders", "OrderPlaced", lambda m: command("ReserveStock", m.data, caused_by=m))
    broker.handle("inventory", "ReserveStock", lambda m: event("StockReserved", m.data, caused_by=m))
    broker.subscribe("orders", "StockReserved", lambda m: command("TakePayment", m.data, caused_by=m))
    broker.handle("payments", "TakePayment", lambda m: event("PaymentTaken", m.data, caused_by=m))
    broker.subscribe("orders", "PaymentTaken", lambda m: command("ShipOrder", m.data, caused_by=m))
    broker.handle("shipping", "ShipOrder", lambda m: event("OrderShipped", m.data, caused_by=m))
    broker.subscribe("notifications", "OrderShipped", lambda m: None)
    for order_id in ("o1", "o2"):
        broker.publish(event("OrderPlaced", {"order_id": order_id}))
    broker.deliver()
    messages = list(broker.log)
    random.Random(seed).shuffle(messages)
    return messages


CHAIN = ["OrderPlaced", "ReserveStock", "StockReserved", "TakePayment", "PaymentTaken", "ShipOrder",
         "OrderShipped"]


def _chain(causal_chain, messages, message_id):
    got = call(causal_chain, messages, message_id, what="causal_chain(messages, message_id)")
    check(isinstance(got, list), f"causal_chain should return a list of names, got {type(got).__name__}.")
    return got


def check_causal_chain(causal_chain) -> None:
    messages = _shop_run(seed=3)
    last = next(m for m in messages if m.name == "OrderShipped" and m.data["order_id"] == "o1")
    got = _chain(causal_chain, messages, last.message_id)
    check(got == CHAIN, f"The chain to o1's OrderShipped is {got}, expected {CHAIN}. Start at the message "
          "with that id, follow causation_id to each parent until it is None, then reverse.")


def check_causal_chain_more(causal_chain) -> None:
    messages = _shop_run(seed=8)
    pay = next(m for m in messages if m.name == "TakePayment" and m.data["order_id"] == "o2")
    got = _chain(causal_chain, messages, pay.message_id)
    check(got == CHAIN[:4], f"The chain to o2's TakePayment is {got}, expected {CHAIN[:4]}.")
    root = next(m for m in messages if m.name == "OrderPlaced")
    got = _chain(causal_chain, messages, root.message_id)
    check(got == ["OrderPlaced"], f"The chain of a first message is just itself, got {got}.")
    got = _chain(causal_chain, messages, "no-such-id")
    check(got == [], f"For an unknown message id return [], got {got}.")


def _board(cls):
    board = call(cls, what="TrackingBoard()")
    check(callable(getattr(board, "handle", None)) and callable(getattr(board, "status", None)),
          "TrackingBoard() needs two methods: handle(message) and status(order_id).")
    return board


def _status_events(orders: int):
    out = []
    for i in range(orders):
        for version, name in enumerate(["OrderPlaced", "PaymentTaken", "OrderShipped"], start=1):
            out.append(event(name, {"order_id": f"o{i}", "version": version}))
    return out


def check_tracking(cls) -> None:
    board = _board(cls)
    placed, paid, shipped = _status_events(1)
    for m in (placed, shipped, paid):
        call(board.handle, m, what="TrackingBoard().handle(message)")
    got = call(board.status, "o0", what="board.status('o0')")
    check(got == "OrderShipped", f"After OrderPlaced, OrderShipped, then a late PaymentTaken, status('o0') is "
          f"{got!r}, expected 'OrderShipped': ignore events whose version is not newer than what you know.")
    got = call(board.status, "nope", what="board.status('nope')")
    check(got is None, f"status() of an order never seen should be None, got {got!r}.")


def check_tracking_more(cls) -> None:
    for seed in range(5):
        board = _board(cls)
        broker = Broker(shuffle=True, duplicates=0.2, seed=seed)
        for name in ("OrderPlaced", "PaymentTaken", "OrderShipped"):
            broker.subscribe("tracking", name, board.handle)
        for m in _status_events(6):
            broker.publish(m)
        call(broker.deliver, what="delivering shuffled, duplicated status events")
        _no_failures(broker)
        statuses = {f"o{i}": call(board.status, f"o{i}", what="board.status") for i in range(6)}
        wrong = {oid: status for oid, status in statuses.items() if status != "OrderShipped"}
        check(not wrong, f"With shuffled and duplicated delivery (seed {seed}) these orders show a stale status: "
              f"{wrong}. Keep, per order, the highest version seen and the name that came with it.")


# ---------------------------------------------------------------------------------------
# lab03_event_sourcing

INITIAL = {"status": "new", "total": 0, "paid": 0, "version": 0}


def _apply(apply_event, state, name, data):
    got = call(apply_event, dict(state), name, dict(data), what=f"apply_event(state, {name!r}, {data})")
    check(isinstance(got, dict), f"apply_event should return the new state as a dict, got {type(got).__name__}.")
    return got


def _fold(apply_event, events):
    state = dict(INITIAL)
    for name, data in events:
        state = _apply(apply_event, state, name, data)
    return state


def check_apply(apply_event) -> None:
    state = _apply(apply_event, INITIAL, "OrderPlaced", {"order_id": "o1", "total": 1800})
    check(state == {"status": "placed", "total": 1800, "paid": 0, "version": 1},
          f"After OrderPlaced(total=1800) the state is {state}, expected status 'placed', total 1800, "
          "paid 0, version 1.")
    before = dict(state)
    after = _apply(apply_event, state, "PaymentTaken", {"amount": 1800})
    check(after == {"status": "paid", "total": 1800, "paid": 1800, "version": 2},
          f"After PaymentTaken(amount=1800) the state is {after}, expected status 'paid', paid 1800, version 2.")
    frozen = {"status": "placed", "total": 1800, "paid": 0, "version": 1}
    probe = dict(frozen)
    call(apply_event, probe, "PaymentTaken", {"amount": 5}, what="apply_event")
    check(probe == frozen and before == state, "apply_event changed the state it was given: build and return a "
          "new dict (e.g. `new = dict(state)`) so past states stay as they were.")


def check_apply_more(apply_event) -> None:
    state = _fold(apply_event, [("OrderPlaced", {"total": 1000}), ("PaymentTaken", {"amount": 1000}),
                                ("OrderShipped", {}), ("RefundIssued", {"amount": 400})])
    check(state == {"status": "refunded", "total": 1000, "paid": 600, "version": 4},
          f"Placed 1000, paid 1000, shipped, refunded 400 gives {state}; expected status 'refunded', paid 600, "
          "version 4.")
    state = _fold(apply_event, [("OrderPlaced", {"total": 1000}), ("GiftWrapped", {"paper": "red"})])
    check(state == {"status": "placed", "total": 1000, "paid": 0, "version": 2},
          f"An unknown event should only move the version on, got {state}.")


def _store_with_order(total=1800, paid=True, shipped=False):
    store = EventStore()
    store.append("o1", [("OrderPlaced", {"order_id": "o1", "total": total})], expected_version=0,
                 at="2026-11-01T09:00")
    if paid:
        store.append("o1", [("PaymentTaken", {"amount": total})], expected_version=1, at="2026-11-01T10:00")
    if shipped:
        store.append("o1", [("OrderShipped", {})], expected_version=2, at="2026-11-02T10:00")
    return store


def check_load(load) -> None:
    store = _store_with_order(shipped=True)
    got = call(load, store, "o1", what="load(store, 'o1')")
    check(got == {"status": "shipped", "total": 1800, "paid": 1800, "version": 3},
          f"load(store, 'o1') gave {got}; expected the fold of o1's three events "
          "(status 'shipped', paid 1800, version 3). Start from dict(INITIAL) and apply_event each stored event.")
    got = call(load, store, "o1", as_of="2026-11-01T09:30", what="load(store, 'o1', as_of='2026-11-01T09:30')")
    check(got.get("status") == "placed" and got.get("version") == 1,
          f"As of 09:30 on 1 November the order was only placed; got {got}. Pass as_of to store.read(...).")


def check_load_more(load) -> None:
    store = _store_with_order()
    got = call(load, store, "nobody", what="load(store, 'nobody')")
    check(got == INITIAL, f"A stream with no events should load as INITIAL, got {got}.")
    got = call(load, store, "o1", as_of="2026-10-01", what="load(..., as_of before the order)")
    check(got == INITIAL, f"As of a date before the order, expected INITIAL, got {got}.")
    got = call(load, store, "o1", what="load")
    check(got.get("version") == store.version("o1"), "The loaded version must equal the stream's version.")


class RacingStore(EventStore):
    """A store where another clerk refunds the order right after you read it."""

    def __init__(self):
        super().__init__()
        self.raced = False

    def read(self, stream_id, **kwargs):
        events = super().read(stream_id, **kwargs)
        if not self.raced and stream_id == "o1":
            self.raced = True
            self.append("o1", [("RefundIssued", {"amount": 1000})], expected_version=self.version("o1"))
        return events


def check_refund(refund) -> None:
    store = _store_with_order(total=1800)
    version = call(refund, store, "o1", 500, what="refund(store, 'o1', 500)")
    events = store.read("o1")
    check([e.name for e in events] == ["OrderPlaced", "PaymentTaken", "RefundIssued"] and
          events[-1].data == {"amount": 500},
          f"After refund(store, 'o1', 500) the stream is {[(e.name, e.data) for e in events]}; expected one "
          "new ('RefundIssued', {'amount': 500}).")
    check(version == 3, f"refund should return the stream's new version (store.append's result), got {version!r}.")
    expect_raise(ValueError, refund, store, "o1", 2000, what="refunding 2000 of 1300 still paid",
                 fix="Refuse (raise ValueError) a refund larger than what is still paid.")
    check(store.version("o1") == 3, "A refused refund must not append anything.")


def check_refund_more(refund) -> None:
    store = _store_with_order(paid=False)
    expect_raise(ValueError, refund, store, "o1", 100, what="refunding an unpaid order",
                 fix="Only refund an order whose status is 'paid', 'shipped' or 'refunded' with money left.")
    expect_raise(ValueError, refund, _store_with_order(), "o1", 0, what="refunding 0",
                 fix="The amount must be positive.")
    racing = RacingStore()
    racing.append("o1", [("OrderPlaced", {"total": 1800}), ("PaymentTaken", {"amount": 1800})], expected_version=0)
    racing.raced = False
    try:
        refund(racing, "o1", 1000)
    except ConcurrencyError:
        pass
    except NotImplementedError:
        raise LabCheckError("refund still raises NotImplementedError.") from None
    except Exception as exc:
        raise LabCheckError(f"refund(store, 'o1', 1000) on a paid order of 1800 raised {type(exc).__name__}: "
                            f"{exc}; only a ConcurrencyError was expected (another clerk refunded meanwhile).") from None
    else:
        refunds = [e for e in racing.read("o1") if e.name == "RefundIssued"]
        raise LabCheckError(f"Another clerk refunded 1000 right after you loaded the order, and your refund was "
                            f"appended anyway ({len(refunds)} refunds now). Append with "
                            "expected_version=state['version'] from YOUR load, not store.version(...) read later.")


def check_upcaster(upcast) -> None:
    v1 = {"order_id": "o1", "customer": "ada", "items": {"mug": 1}, "amount": 15.0}
    got = call(upcast, dict(v1), what="order_placed_v1_to_v2(v1 data)")
    check(isinstance(got, dict), "The upcaster should return the v2 data as a dict.")
    check("amount" not in got and got.get("total") == 1500,
          f"v1 amount 15.0 (euros) should become total 1500 (cents) with no 'amount' left, got {got}.")
    check({k: got.get(k) for k in ("order_id", "customer", "items")} == {"order_id": "o1", "customer": "ada",
                                                                         "items": {"mug": 1}},
          "Keep every other field of the event as it was.")
    store = EventStore(upcasters={("OrderPlaced", 1): upcast})
    store.append("o1", [("OrderPlaced", v1, 1)], expected_version=0)
    (e,) = store.read("o1")
    check(e.schema == 2 and e.data.get("total") == 1500, "Registered on a store, the upcaster should give schema-2 data.")


def check_upcaster_more(upcast) -> None:
    for amount, cents in ((19.99, 1999), (0.29, 29), (0.1, 10), (12, 1200)):
        got = call(upcast, {"order_id": "x", "amount": amount}, what=f"upcasting amount={amount}")
        check(got.get("total") == cents and isinstance(got.get("total"), int),
              f"amount {amount} euros gave total {got.get('total')!r}, expected {cents} (an int). "
              "Floats are inexact (19.99 * 100 = 1998.9999...): use round(), not int().")


# ---------------------------------------------------------------------------------------
# lab04_cqrs

READ_SCHEMA = """
CREATE TABLE IF NOT EXISTS order_summary (order_id TEXT PRIMARY KEY, customer TEXT, status TEXT, total INTEGER);
CREATE TABLE IF NOT EXISTS customer_spend (customer TEXT PRIMARY KEY, spent INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS paid_orders (order_id TEXT PRIMARY KEY, customer TEXT, amount INTEGER);
"""


def new_read_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(READ_SCHEMA)
    return db


def shop_events(store: EventStore, orders=(("o1", "ada", 1800), ("o2", "bob", 900), ("o3", "ada", 1200))):
    """Place, pay and ship a few orders on the command side (PaymentTaken names the customer)."""
    for order_id, customer, total in orders:
        store.append(order_id, [("OrderPlaced", {"order_id": order_id, "customer": customer, "total": total})],
                     expected_version=store.version(order_id))
    for order_id, customer, total in orders[::2]:
        store.append(order_id, [("PaymentTaken", {"customer": customer, "amount": total})],
                     expected_version=store.version(order_id))
    order_id = orders[0][0]
    store.append(order_id, [("OrderShipped", {})], expected_version=store.version(order_id))
    return store


def _query(reads, sql: str):
    try:
        return reads.execute(sql).fetchall()
    except sqlite3.Error as exc:
        raise LabCheckError(f"Reading the read model failed ({exc}). If you dropped a table, recreate it "
                            "(or empty tables with DELETE FROM instead of DROP TABLE).") from None


def summary(reads) -> list:
    return _query(reads, "SELECT order_id, customer, status, total FROM order_summary ORDER BY order_id")


def spend(reads) -> dict:
    return dict(_query(reads, "SELECT customer, spent FROM customer_spend"))


def checkpoint(reads) -> int:
    rows = _query(reads, "SELECT position FROM checkpoint WHERE id = 1")
    return rows[0][0] if rows else 0


EXPECTED_SUMMARY = [("o1", "ada", "shipped", 1800), ("o2", "bob", "placed", 900), ("o3", "ada", "paid", 1200)]
EXPECTED_SPEND = {"ada": 3000}


def check_project(project) -> None:
    store, reads = shop_events(EventStore()), new_read_db()
    for e in store.read_all():
        call(project, reads, e, what=f"project(reads, {e.name} of {e.stream_id})")
    got = summary(reads)
    check(got == EXPECTED_SUMMARY, f"order_summary holds {got}, expected {EXPECTED_SUMMARY}. OrderPlaced inserts "
          "a 'placed' row; PaymentTaken sets 'paid'; OrderShipped sets 'shipped' (the order id is e.stream_id).")
    got = spend(reads)
    check(got == EXPECTED_SPEND, f"customer_spend holds {got}, expected {EXPECTED_SPEND}: on PaymentTaken add the "
          "amount to the customer's row (INSERT ... ON CONFLICT (customer) DO UPDATE SET spent = spent + ...).")


def check_project_more(project) -> None:
    store = EventStore()
    shop_events(store, orders=(("a", "zoe", 100), ("b", "zoe", 200), ("c", "zoe", 400), ("d", "yan", 50),
                               ("e", "zoe", 800)))
    reads = new_read_db()
    for e in store.read_all():
        call(project, reads, e, what="project")
    got = spend(reads)
    check(got == {"zoe": 1300}, f"zoe paid 100 + 400 + 800; customer_spend says {got}.")
    check(summary(reads)[0][2] == "shipped" and len(summary(reads)) == 5, "Every placed order needs a row.")


def _catch_up(catch_up, store, reads, what="catch_up(store, reads)"):
    n = call(catch_up, store, reads, what=what)
    check(isinstance(n, int), f"catch_up should return how many events it applied, got {n!r}.")
    return n


def check_catch_up(catch_up) -> None:
    store, reads = shop_events(EventStore()), new_read_db()
    total = len(store.read_all())
    n = _catch_up(catch_up, store, reads)
    check(n == total, f"The first catch_up applied {n} events, expected all {total}.")
    check(summary(reads) == EXPECTED_SUMMARY and spend(reads) == EXPECTED_SPEND,
          f"After catch_up the read model is {summary(reads)} / {spend(reads)}: apply each event with project().")
    check(checkpoint(reads) == total, f"The checkpoint says {checkpoint(reads)}, expected {total} (the position of "
          "the last event applied): write it in the same transaction as the event.")
    n = _catch_up(catch_up, store, reads, what="a second catch_up")
    check(n == 0 and spend(reads) == EXPECTED_SPEND, f"A second catch_up with no new events applied {n} and left "
          f"customer_spend at {spend(reads)}: start after the checkpoint (store.read_all(after_position=...)).")


def check_catch_up_more(catch_up) -> None:
    store, reads = shop_events(EventStore()), new_read_db()
    _catch_up(catch_up, store, reads)
    store.append("o2", [("PaymentTaken", {"customer": "bob", "amount": 900})], expected_version=1)
    n = _catch_up(catch_up, store, reads)
    check(n == 1 and spend(reads) == {"ada": 3000, "bob": 900},
          f"One new event should give exactly one applied event; got {n} and spend {spend(reads)}.")
    check(checkpoint(reads) == len(store.read_all()), "The checkpoint should follow the last applied position.")


def check_rebuild(rebuild) -> None:
    store, reads = shop_events(EventStore()), new_read_db()
    reads.execute("INSERT INTO order_summary VALUES ('zz', 'ghost', 'paid', 1)")
    reads.execute("INSERT INTO customer_spend VALUES ('ada', 999999)")
    reads.execute("INSERT INTO checkpoint VALUES (1, 3)")
    reads.commit()
    n = call(rebuild, store, reads, what="rebuild(store, reads)")
    check(summary(reads) == EXPECTED_SUMMARY and spend(reads) == EXPECTED_SPEND,
          f"After rebuild the read model is {summary(reads)} / {spend(reads)}; expected {EXPECTED_SUMMARY} / "
          f"{EXPECTED_SPEND}. Empty order_summary, customer_spend and checkpoint, then catch up from position 0.")
    check(n == len(store.read_all()), f"rebuild should return how many events it replayed ({len(store.read_all())}), "
          f"got {n!r}.")


def check_rebuild_more(rebuild) -> None:
    store, reads = shop_events(EventStore()), new_read_db()
    call(rebuild, store, reads, what="rebuild")
    call(rebuild, store, reads, what="a second rebuild")
    check(summary(reads) == EXPECTED_SUMMARY and spend(reads) == EXPECTED_SPEND,
          "Rebuilding twice must give the same read model as once.")
    check(checkpoint(reads) == len(store.read_all()), "After a rebuild the checkpoint is the last position.")


def _paid_events(store):
    return [e for e in store.read_all() if e.name == "PaymentTaken"]


def check_idempotent_spend(record_payment, spent_by_customer) -> None:
    store = shop_events(EventStore())
    reads = new_read_db()
    paid = _paid_events(store)
    for e in paid + paid:  # every payment delivered twice
        call(record_payment, reads, e, what="record_payment(reads, event)")
    got = call(spent_by_customer, reads, what="spent_by_customer(reads)")
    check(got == EXPECTED_SPEND, f"Each payment arrived twice and spent_by_customer says {got}, expected "
          f"{EXPECTED_SPEND}: store one row per paid order (INSERT OR IGNORE INTO paid_orders) and SUM in the query.")


def check_idempotent_spend_more(record_payment, spent_by_customer) -> None:
    store = EventStore()
    orders = tuple((f"p{i}", ["ada", "bob", "cy"][i % 3], 100 * (i + 1)) for i in range(9))
    shop_events(store, orders=orders)
    paid = _paid_events(store)
    expected: dict = {}
    for e in paid:
        expected[e.data["customer"]] = expected.get(e.data["customer"], 0) + e.data["amount"]
    rng = random.Random(4)
    delivered = paid * 3
    rng.shuffle(delivered)
    reads = new_read_db()
    for e in delivered:
        call(record_payment, reads, e, what="record_payment")
    got = call(spent_by_customer, reads, what="spent_by_customer")
    check(got == expected, f"With shuffled, triplicated payments you got {got}, expected {expected}.")
    check(call(spent_by_customer, new_read_db(), what="spent_by_customer on an empty read model") == {},
          "With no payments spent_by_customer should return {}.")
