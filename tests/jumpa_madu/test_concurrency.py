"""Money under concurrency, on the database the suite runs on (SQLite or PostgreSQL).

Each worker thread has its own app context, so its own session and connection, exactly like two
gunicorn workers. A barrier releases them together so the race is real, not taken in turns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text

from portal.accounts.models import User
from portal.core.errors import DomainError
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.ledger import LedgerTransaction, TxnKind
from portal.jumpa_madu.models import PayoutMethod, Pickup, PickupStatus, WasteUnit, Withdrawal
from tests.factories import fund_wallet, make_pickup, make_unit, make_user

THREADS = 20


def _race(app: Flask, n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in n threads released together; returns each result or the exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with app.test_request_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results


def _setup(app: Flask, balance: int) -> tuple[int, int]:
    with app.app_context():
        unit = make_unit()
        user = make_user()
        fund_wallet(user, balance, unit)
        # The unit's hold account exists already, as it would after its first withdrawal.
        ledger.unit_account(ledger.AccountKind.WITHDRAWAL_HOLD, unit.id)
        db.session.commit()
        return user.id, unit.id


def _paid_out(results: list[Any], amount: int) -> int:
    return sum(amount for r in results if isinstance(r, int))


def test_twenty_concurrent_withdrawals_never_take_the_wallet_below_zero(app: Flask):
    user_id, unit_id = _setup(app, 100_000)

    def withdraw(_i: int) -> int:
        user = db.session.get(User, user_id)
        unit = db.session.get(WasteUnit, unit_id)
        jm.request_withdrawal(user, unit, 15_000, PayoutMethod.CASH)
        return 15_000

    results = _race(app, THREADS, withdraw)

    refusals = [r for r in results if isinstance(r, DomainError)]
    others = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not others, others
    # 100.000 holds six withdrawals of 15.000, never seven.
    assert _paid_out(results, 15_000) == 90_000
    assert len(refusals) == THREADS - 6
    assert all(r.field == "amount" for r in refusals)
    with app.app_context():
        assert ledger.wallet_balance(user_id) == 10_000
        held = db.session.scalar(select(func.sum(Withdrawal.amount)))
        assert held == 90_000
        assert db.session.scalar(select(func.count(Withdrawal.id))) == 6  # refusals left nothing
        assert ledger.check() == []


def test_the_race_harness_catches_a_naive_read_check_write(app: Flask):
    """Proof the test above can fail: a naive withdrawal pays out more than the balance."""
    user_id, _unit_id = _setup(app, 100_000)

    def naive_withdraw(_i: int) -> int:
        balance = db.session.scalar(
            text("SELECT balance FROM jm_ledger_accounts WHERE key = :k"),
            {"k": ledger.wallet_key(user_id)},
        )
        time.sleep(0.05)  # the time a real request spends between reading and writing
        if balance < 15_000:
            raise DomainError("amount", "saldo kurang")
        db.session.execute(
            text("UPDATE jm_ledger_accounts SET balance = :b WHERE key = :k"),
            {"b": balance - 15_000, "k": ledger.wallet_key(user_id)},
        )
        return 15_000

    results = _race(app, THREADS, naive_withdraw)
    assert _paid_out(results, 15_000) > 100_000, "the naive version should overspend"


def test_a_weighing_is_credited_once_when_resident_and_cron_confirm_at_once(app: Flask):
    with app.test_request_context():
        pickup = make_pickup(status="weighed")
        pickup_id, user_id = pickup.id, pickup.user_id
        # The confirmation period has passed, so the cron job may confirm it too.
        db.session.execute(
            text("UPDATE jm_pickups SET confirm_due_at = :t WHERE id = :id"),
            {"t": "2000-01-01 00:00:00", "id": pickup_id},
        )
        db.session.commit()

    def confirm(i: int) -> str:
        if i % 2:
            return f"cron:{jm.confirm_due()}"
        pickup = db.session.get(Pickup, pickup_id)
        jm.confirm_weighing(pickup, pickup.user)
        return "resident"

    results = _race(app, 6, confirm)
    with app.app_context():
        credits = db.session.scalar(
            select(func.count(LedgerTransaction.id)).where(
                LedgerTransaction.kind == TxnKind.WEIGHING_CREDIT,
                LedgerTransaction.pickup_id == pickup_id,
            )
        )
        assert credits == 1, results
        assert ledger.wallet_balance(user_id) == 8730
        assert db.session.get(Pickup, pickup_id).status == PickupStatus.CONFIRMED
        assert ledger.check() == []


def test_two_officers_marking_a_withdrawal_paid_pay_it_once(app: Flask):
    user_id, unit_id = _setup(app, 50_000)
    with app.test_request_context():
        user, unit = db.session.get(User, user_id), db.session.get(WasteUnit, unit_id)
        officers = [make_user(roles=("waste_officer",), scope=unit.scope) for _ in range(2)]
        officer_ids = [o.id for o in officers]
        withdrawal = jm.request_withdrawal(user, unit, 20_000, PayoutMethod.CASH)
        jm.approve_withdrawal(withdrawal, officers[0])
        db.session.commit()
        withdrawal_id = withdrawal.id

    def pay(i: int) -> str:
        w = db.session.get(Withdrawal, withdrawal_id)
        jm.pay_withdrawal(w, db.session.get(User, officer_ids[i % 2]), f"KWT-{i}")
        return "paid"

    results = _race(app, 4, pay)
    assert results.count("paid") == 1, results
    with app.app_context():
        paid = db.session.scalar(
            select(func.count(LedgerTransaction.id)).where(
                LedgerTransaction.kind == TxnKind.WITHDRAWAL_PAID
            )
        )
        assert paid == 1
        assert ledger.wallet_balance(user_id) == 30_000
        assert ledger.check() == []
