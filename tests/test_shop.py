"""The shop domain the concept notebooks build on: broker, event store, order fold.

The notebooks teach with these pieces, so each behaviour a notebook claims (a down consumer
loses nothing, a second writer is refused, old events are upcast...) is pinned here too.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone

import pytest

from edalab.shop import (Broker, ConcurrencyError, EventStore, Order, command, event, fold,
                         kind_of)
from edalab.shop.broker import trace_tree


def placed(order_id="o1", total=1200):
    return ("OrderPlaced", {"order_id": order_id, "customer": "ada", "items": {"mug": 2}, "total": total})


# -- messages ---------------------------------------------------------------------------
def test_kind_of_classifies_the_shops_messages_and_names_unknown_ones():
    assert kind_of("OrderPlaced") == "event"
    assert kind_of("ReserveStock") == "command"
    with pytest.raises(ValueError, match="not one of the shop's messages"):
        kind_of("PlaceOrderNow")


def test_caused_messages_share_the_correlation_and_point_at_their_cause():
    first = event("OrderPlaced", {"order_id": "o1"})
    second = command("ReserveStock", {"order_id": "o1"}, caused_by=first)
    third = event("StockReserved", {"order_id": "o1"}, caused_by=second)
    assert first.correlation_id == first.message_id and first.causation_id is None
    assert second.correlation_id == third.correlation_id == first.message_id
    assert third.causation_id == second.message_id


def test_bad_message_input_is_refused_with_a_message():
    with pytest.raises(TypeError, match="dict"):
        event("OrderPlaced", ["not", "a", "dict"])
    with pytest.raises(ValueError, match="non-empty name"):
        command("")


# -- broker -----------------------------------------------------------------------------
def test_an_event_reaches_every_subscriber_and_a_command_exactly_one():
    broker, seen = Broker(), []
    broker.subscribe("inventory", "OrderPlaced", lambda m: seen.append(("inventory", m.name)))
    broker.subscribe("notifications", "OrderPlaced", lambda m: seen.append(("notifications", m.name)))
    broker.handle("payments", "TakePayment", lambda m: seen.append(("payments", m.name)))
    assert broker.publish(event("OrderPlaced")) == ["inventory", "notifications"]
    assert broker.publish(command("TakePayment")) == ["payments"] and broker.target("TakePayment") == "payments"
    assert broker.publish(event("OrderShipped")) == []  # an event may have no consumer at all
    broker.deliver()
    assert sorted(seen) == [("inventory", "OrderPlaced"), ("notifications", "OrderPlaced"),
                            ("payments", "TakePayment")]
    with pytest.raises(ValueError, match="exactly one"):
        broker.handle("shipping", "TakePayment", print)
    with pytest.raises(LookupError, match="no service handles"):
        broker.publish(command("ShipOrder"))


def test_a_stopped_consumer_loses_nothing_and_the_producer_goes_on():
    broker, seen = Broker(), []
    broker.subscribe("notifications", "OrderPlaced", lambda m: seen.append(m.data["n"]))
    broker.stop("notifications")
    for n in range(3):
        broker.publish(event("OrderPlaced", {"n": n}))
    assert broker.deliver() == 0 and broker.pending("notifications") == 3
    broker.start("notifications")
    assert broker.deliver() == 3 and seen == [0, 1, 2] and broker.pending() == 0


def test_a_failing_handler_keeps_its_message_for_the_next_delivery():
    broker, calls = Broker(), []

    def flaky(m):
        calls.append(m.name)
        if len(calls) == 1:
            raise ConnectionError("mail server down")

    broker.handle("notifications", "SendEmail", flaky)
    broker.publish(command("SendEmail"))
    broker.deliver()
    assert len(broker.failures) >= 1 and broker.pending() == 1
    broker.deliver()
    assert broker.pending() == 0 and len(broker.delivered) == 1


def test_handlers_returned_messages_are_published_and_traced_end_to_end():
    broker = Broker()
    broker.subscribe("inventory", "OrderPlaced",
                     lambda m: command("ReserveStock", m.data, caused_by=m))
    broker.handle("inventory", "ReserveStock", lambda m: event("StockReserved", m.data, caused_by=m))
    broker.subscribe("shipping", "StockReserved", lambda m: None)
    first = event("OrderPlaced", {"order_id": "o1"})
    broker.publish(first)
    broker.publish(event("OrderPlaced", {"order_id": "o2"}))  # another action, not in the trace
    broker.deliver()
    chain = broker.trace(first.correlation_id)
    assert [m.name for m in chain] == ["OrderPlaced", "ReserveStock", "StockReserved"]
    tree = trace_tree(chain)
    assert tree.splitlines()[0].startswith("event OrderPlaced") and "  └─ event StockReserved" in tree


def test_duplicates_and_shuffle_are_reproducible_with_a_seed():
    def run(seed):
        broker, seen = Broker(duplicates=0.5, shuffle=True, seed=seed), []
        broker.subscribe("inventory", "OrderPlaced", lambda m: seen.append(m.data["n"]))
        for n in range(20):
            broker.publish(event("OrderPlaced", {"n": n}))
        broker.deliver()
        return seen

    seen = run(7)
    assert seen == run(7)
    assert len(seen) > 20 and set(seen) == set(range(20))  # duplicates, nothing lost
    assert seen[:20] != list(range(20))  # out of order
    with pytest.raises(ValueError, match="probability"):
        Broker(duplicates=1.0)


def test_deliver_can_step_one_message_at_a_time():
    broker = Broker()
    broker.subscribe("inventory", "OrderPlaced", lambda m: None)
    for _ in range(3):
        broker.publish(event("OrderPlaced"))
    assert broker.deliver(max_messages=1) == 1 and broker.pending() == 2


# -- event store ------------------------------------------------------------------------
def test_append_and_read_back_a_stream_in_order():
    store = EventStore()
    assert store.append("o1", [placed()], expected_version=0) == 1
    assert store.append("o1", [("PaymentTaken", {"amount": 1200})], expected_version=1) == 2
    events = store.read("o1")
    assert [(e.version, e.name) for e in events] == [(1, "OrderPlaced"), (2, "PaymentTaken")]
    assert store.read("nobody") == [] and store.version("nobody") == 0


def test_a_stale_writer_gets_a_concurrency_error_and_nothing_is_written():
    store = EventStore()
    store.append("o1", [placed()], expected_version=0)
    store.append("o1", [("PaymentTaken", {"amount": 1200})], expected_version=1)
    with pytest.raises(ConcurrencyError, match="at version 2, you expected 1"):
        store.append("o1", [("PaymentFailed", {}), ("OrderShipped", {})], expected_version=1)
    assert store.version("o1") == 2


def test_two_connections_racing_on_one_file_cannot_both_win(tmp_path):
    path = tmp_path / "shop.db"
    EventStore(path).append("o1", [placed()], expected_version=0)
    results, barrier = [], threading.Barrier(2)

    def writer(name):
        store = EventStore(path)
        barrier.wait()
        try:
            store.append("o1", [(name, {})], expected_version=1)
            results.append("ok")
        except (ConcurrencyError, sqlite3.OperationalError):
            results.append("refused")

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("PaymentTaken", "PaymentFailed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert EventStore(path).version("o1") == 2


def test_as_of_reads_the_past():
    store = EventStore()
    store.append("o1", [placed()], expected_version=0, at="2026-11-01T10:00:00")
    store.append("o1", [("PaymentTaken", {"amount": 1200})], expected_version=1,
                 at=datetime(2026, 11, 2, tzinfo=timezone.utc))
    assert fold(store.read("o1", as_of="2026-11-01T23:59:59")).status == "placed"
    assert fold(store.read("o1", as_of="2026-11-03")).status == "paid"
    assert store.read("o1", as_of="2026-10-01") == []


def test_snapshot_plus_later_events_equals_a_full_rebuild():
    store = EventStore()
    store.append("o1", [placed(), ("PaymentTaken", {"amount": 1200})], expected_version=0)
    state = fold(store.read("o1"))
    store.save_snapshot("o1", state.version, state.to_dict())
    store.append("o1", [("StockReserved", {}), ("OrderShipped", {})], expected_version=2)
    version, snap = store.snapshot("o1")
    from_snapshot = fold(store.read("o1", after_version=version), start=snap)
    assert from_snapshot == fold(store.read("o1")) and from_snapshot.status == "shipped"
    assert from_snapshot.version == 4


def test_upcasters_upgrade_old_events_on_read_without_rewriting_them():
    old = EventStore()
    old.append("o1", [("OrderPlaced", {"order_id": "o1", "items": {"mug": 1}, "amount": 9.5})],
               expected_version=0)
    old.upcasters[("OrderPlaced", 1)] = lambda d: {**{k: v for k, v in d.items() if k != "amount"},
                                                   "total": round(d["amount"] * 100)}
    (e,) = old.read("o1")
    assert e.schema == 2 and e.data["total"] == 950 and "amount" not in e.data
    raw = old.db.execute("SELECT schema, data FROM events").fetchone()
    assert raw[0] == 1 and "amount" in raw[1]


def test_read_all_follows_the_global_order_across_streams():
    store = EventStore()
    store.append("o1", [placed("o1")], expected_version=0)
    store.append("o2", [placed("o2")], expected_version=0)
    store.append("o1", [("PaymentTaken", {"amount": 1})], expected_version=1)
    assert [(e.stream_id, e.name) for e in store.read_all()] == [
        ("o1", "OrderPlaced"), ("o2", "OrderPlaced"), ("o1", "PaymentTaken")]
    assert [e.position for e in store.read_all(after_position=2)] == [3]
    assert store.streams() == ["o1", "o2"]


def test_bad_events_are_refused_with_a_message():
    store = EventStore()
    with pytest.raises(TypeError, match="name, data"):
        store.append("o1", ["OrderPlaced"], expected_version=0)
    with pytest.raises(ValueError, match="at least one"):
        store.append("o1", [], expected_version=0)


# -- order fold -------------------------------------------------------------------------
def test_fold_is_pure_and_ignores_events_it_does_not_know():
    events = [placed(), ("SomethingElse", {}), ("PaymentTaken", {"amount": 1200})]
    start = Order()
    order = fold(events, start)
    assert start == Order() and order.status == "paid" and order.paid == 1200 and order.version == 3


def test_stepper_widget_steps_through_events_headless():
    from edalab.widgets.stepper import EventStepper

    events = [placed(), ("PaymentTaken", {"amount": 1200}), ("OrderShipped", {})]
    stepper = EventStepper(events, {"order": lambda seen: fold(seen).status})
    assert stepper.text() .count("order") == 1 and "new" in stepper.text()
    stepper.slider.value = 2
    assert "paid" in stepper.text()
    stepper.slider.value = 3
    assert "shipped" in stepper.text()
    with pytest.raises(ValueError, match="at least one view"):
        EventStepper(events, {})


# -- the concept labs' checks (graders/labchecks/concepts.py) catch wrong answers ----------
# A grade cell must be able to fail: each check below is fed a plausible wrong answer and
# must raise LabCheckError (never a bare AssertionError or a crash), and a right answer must
# pass. The full solution/blank grading of the labs is tests/test_labs.py.

import sqlite3 as _sqlite3  # noqa: E402

from labchecks import LabCheckError  # noqa: E402
from labchecks import concepts  # noqa: E402


def fails(check, *answers, match=""):
    with pytest.raises(LabCheckError, match=match):
        check(*answers)


def test_lab01_checks_catch_a_checkout_without_a_transaction_and_a_careless_saga():
    def no_transaction(db, customer, items, card):
        total = sum(concepts.PRICES[s] * q for s, q in items.items())
        order_id = db.execute("INSERT INTO orders (customer, total) VALUES (?, ?)", (customer, total)).lastrowid
        concepts.reserve_stock(db, items)
        concepts.take_payment(db, order_id, total, card)
        db.commit()
        return order_id

    fails(concepts.check_monolith_order, no_transaction, match="ONE transaction")

    def releases_always(net, inventory, payments, order_id, items, card="ok"):
        total = sum(concepts.PRICES[s] * q for s, q in items.items())
        try:
            net.call(inventory.reserve, items)
            net.call(payments.take, order_id, total, card)
        except (ConnectionError, concepts.CardDeclined):
            inventory.release(items)
            return "cancelled"
        return "confirmed"

    fails(concepts.check_saga, releases_always, match="never reserved")
    fails(concepts.check_saga_more, releases_always, match="never reserved")

    def retries_everything(call, attempts=3):
        for attempt in range(attempts):
            try:
                return call()
            except Exception:
                if attempt == attempts - 1:
                    raise

    concepts.check_retry(retries_everything)
    fails(concepts.check_retry_more, retries_everything, match="Retry only ConnectionError|retried")
    fails(concepts.check_retry, lambda call, attempts=3: call(), match="ConnectionError")


def test_lab02_checks_catch_duplicates_wrong_kinds_and_stale_statuses():
    fails(concepts.check_kinds, {**concepts.SHOP_KINDS, "ShipOrder": "event"}, match="command")
    fails(concepts.check_kinds_more, dict(concepts.SHOP_KINDS), match="RefundIssued")

    class Naive:
        def __init__(self):
            self.charges = []

        def handle(self, m):
            self.charges.append(m.data["order_id"])

    fails(concepts.check_idempotent, Naive, match="message_id")

    class LastWins:
        def __init__(self):
            self.last = {}

        def handle(self, m):
            self.last[m.data["order_id"]] = m.name

        def status(self, order_id):
            return self.last.get(order_id)

    fails(concepts.check_tracking, LastWins, match="version")
    fails(concepts.check_causal_chain, lambda messages, mid: [m.name for m in messages], match="expected")

    def subscribes_the_command(broker, seen):
        broker.subscribe("notifications", "OrderPlaced", lambda m: seen.append(("notifications", m.name)))
        broker.subscribe("analytics", "OrderPlaced", lambda m: seen.append(("analytics", m.name)))
        broker.subscribe("inventory", "ReserveStock", lambda m: event("StockReserved", m.data))

    fails(concepts.check_wiring, subscribes_the_command, match="exactly one target")


def test_lab03_checks_catch_mutation_stale_versions_and_float_cents():
    def mutating(state, name, data):
        state["version"] += 1
        if name == "OrderPlaced":
            state["status"], state["total"] = "placed", data["total"]
        elif name == "PaymentTaken":
            state["status"], state["paid"] = "paid", state["paid"] + data["amount"]
        return state

    fails(concepts.check_apply, mutating, match="new dict")

    def load(store, order_id, as_of=None):
        state = dict(concepts.INITIAL)
        for e in store.read(order_id, as_of=as_of):
            state = {**state, "version": state["version"] + 1,
                     **({"status": "paid", "paid": state["paid"] + e.data["amount"]} if e.name == "PaymentTaken"
                        else {"status": "placed", "total": e.data["total"]} if e.name == "OrderPlaced"
                        else {"status": "refunded", "paid": state["paid"] - e.data["amount"]}
                        if e.name == "RefundIssued" else {})}
        return state

    def refund_late_version(store, order_id, amount):
        state = load(store, order_id)
        if amount <= 0 or amount > state["paid"] or state["status"] not in ("paid", "shipped", "refunded"):
            raise ValueError("no")
        return store.append(order_id, [("RefundIssued", {"amount": amount})],
                            expected_version=store.version(order_id))

    concepts.check_refund(refund_late_version)
    fails(concepts.check_refund_more, refund_late_version, match="YOUR load")
    fails(concepts.check_upcaster_more,
          lambda d: {**{k: v for k, v in d.items() if k != "amount"}, "total": int(d["amount"] * 100)},
          match="round")


def test_lab04_checks_catch_double_counting_and_a_missing_checkpoint():
    def adds_up(reads, e):
        with reads:
            reads.execute("INSERT INTO customer_spend VALUES (?, ?) ON CONFLICT (customer) DO UPDATE "
                          "SET spent = spent + excluded.spent", (e.data["customer"], e.data["amount"]))

    def from_spend(reads):
        return dict(reads.execute("SELECT customer, spent FROM customer_spend"))

    fails(concepts.check_idempotent_spend, adds_up, from_spend, match="twice")

    def project(reads, e):
        if e.name == "OrderPlaced":
            reads.execute("INSERT OR REPLACE INTO order_summary VALUES (?, ?, 'placed', ?)",
                          (e.stream_id, e.data["customer"], e.data["total"]))
        elif e.name == "PaymentTaken":
            reads.execute("UPDATE order_summary SET status = 'paid' WHERE order_id = ?", (e.stream_id,))
            reads.execute("INSERT INTO customer_spend VALUES (?, ?) ON CONFLICT (customer) DO UPDATE "
                          "SET spent = spent + excluded.spent", (e.data["customer"], e.data["amount"]))
        elif e.name == "OrderShipped":
            reads.execute("UPDATE order_summary SET status = 'shipped' WHERE order_id = ?", (e.stream_id,))

    concepts.check_project(project)

    def no_checkpoint(store, reads):
        events = store.read_all()
        with reads:
            for e in events:
                project(reads, e)
        return len(events)

    fails(concepts.check_catch_up, no_checkpoint, match="checkpoint")
    assert isinstance(concepts.new_read_db(), _sqlite3.Connection)
