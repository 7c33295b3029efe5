"""The ledger: balanced, append-only, cached balances that agree with the entries, and a checker
that notices when they do not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from portal.core.errors import DomainError
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu.ledger import AccountKind, LedgerEntry, LedgerTransaction, TxnKind
from tests.factories import fund_wallet, make_unit, make_user


def _accounts():
    unit = make_unit()
    user = make_user()
    wallet = ledger.wallet_account(user)
    payable = ledger.unit_account(AccountKind.UNIT_PAYABLE, unit.id)
    return user, unit, wallet, payable


def test_a_posted_transaction_moves_both_balances_and_sums_to_zero(ctx):
    user, _unit, wallet, payable = _accounts()
    txn = ledger.post(
        TxnKind.WEIGHING_CREDIT, "k1", [(wallet, 5000), (payable, -5000)], description="Jual"
    )
    db.session.commit()
    assert [e.amount for e in txn.entries] == [5000, -5000]
    assert ledger.wallet_balance(user.id) == 5000
    assert payable.balance == -5000
    assert ledger.entries_balance(wallet.id) == 5000
    assert ledger.check() == []


@pytest.mark.parametrize(
    "amounts",
    [[5000, -4999], [5000], [0, 0], [2500.0, -2500.0]],
    ids=["unbalanced", "one-sided", "zero", "not-integer"],
)
def test_malformed_transactions_are_refused(ctx, amounts):
    _user, _unit, wallet, payable = _accounts()
    pairs = list(zip([wallet, payable], amounts, strict=False))
    with pytest.raises(ValueError):
        ledger.post(TxnKind.WEIGHING_CREDIT, "bad", pairs, description="x")
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) == 0


def test_the_same_key_is_posted_once(ctx):
    user, _unit, wallet, payable = _accounts()
    ledger.post(TxnKind.WEIGHING_CREDIT, "once", [(wallet, 100), (payable, -100)], description="a")
    with pytest.raises(DomainError):
        ledger.post(
            TxnKind.WEIGHING_CREDIT, "once", [(wallet, 100), (payable, -100)], description="a"
        )
    db.session.rollback()
    assert ledger.wallet_balance(user.id) == 0  # the whole action rolled back


def test_a_wallet_cannot_go_below_zero(ctx):
    user, unit, wallet, _payable = _accounts()
    fund_wallet(user, 10_000, unit)
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, unit.id)
    with pytest.raises(DomainError) as info:
        ledger.post(
            TxnKind.WITHDRAWAL_HOLD, "w", [(wallet, -10_001), (hold, 10_001)], description=""
        )
    assert info.value.field == "amount"
    db.session.rollback()
    assert ledger.wallet_balance(user.id) == 10_000
    # ...and the database itself refuses a negative wallet, whatever the code does.
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        db.session.execute(
            text("UPDATE jm_ledger_accounts SET balance = -1 WHERE id = :id"), {"id": wallet.id}
        )
    db.session.rollback()


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_orm(ctx):
    user, unit, _wallet, _payable = _accounts()
    fund_wallet(user, 5000, unit)
    entry = db.session.scalars(select(LedgerEntry)).first()
    entry.amount = 9999
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    txn = db.session.scalars(select(LedgerTransaction)).first()
    db.session.delete(txn)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_updates_of_ledger_rows(ctx):
    user, unit, _wallet, _payable = _accounts()
    fund_wallet(user, 5000, unit)
    for table in ("jm_ledger_entries", "jm_ledger_transactions"):
        column = "amount" if table == "jm_ledger_entries" else "description"
        value = "1" if column == "amount" else "'diubah'"
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(f"UPDATE {table} SET {column} = {value}"))  # noqa: S608
        db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM jm_ledger_entries"))
        db.session.rollback()
    assert ledger.wallet_balance(user.id) == 5000
    assert ledger.check() == []


def test_a_reversal_undoes_a_transaction_and_both_stay(ctx):
    user, unit, _wallet, _payable = _accounts()
    fund_wallet(user, 7000, unit)
    txn = db.session.scalars(select(LedgerTransaction)).one()
    mirror = ledger.reverse(txn, description="Salah input", actor=None)
    db.session.commit()
    assert ledger.wallet_balance(user.id) == 0
    assert mirror.reverses_id == txn.id
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) == 2
    assert ledger.check() == []


def test_check_reports_a_cached_balance_that_disagrees_with_the_entries(ctx, runner):
    user, unit, wallet, _payable = _accounts()
    fund_wallet(user, 5000, unit)
    # Tamper with the cache behind the ledger's back (as a bad script or manual fix would).
    db.session.execute(
        text("UPDATE jm_ledger_accounts SET balance = 6000 WHERE id = :id"), {"id": wallet.id}
    )
    db.session.commit()
    problems = ledger.check()
    assert problems == [f"account wallet:{user.id}: cached balance 6000 but entries sum to 5000"]
    result = runner.invoke(args=["jumpa-madu", "ledger-check"])
    assert result.exit_code == 1
    assert "cached balance 6000" in result.output


def test_check_reports_an_unbalanced_transaction(ctx, runner):
    user, unit, wallet, _payable = _accounts()
    fund_wallet(user, 5000, unit)
    txn_id = db.session.scalar(select(LedgerTransaction.id))
    # A one-sided entry written with raw SQL (INSERT is allowed; the sum is what is wrong).
    db.session.execute(
        text(
            "INSERT INTO jm_ledger_entries (transaction_id, account_id, amount, created_at) "
            "VALUES (:t, :a, 10, CURRENT_TIMESTAMP)"
        ),
        {"t": txn_id, "a": wallet.id},
    )
    db.session.commit()
    problems = ledger.check()
    assert f"transaction {txn_id}: 3 entries summing to 10, not 0" in problems
    assert runner.invoke(args=["jumpa-madu", "ledger-check"]).exit_code == 1


def test_ledger_check_passes_on_healthy_books(ctx, runner):
    user, unit, _wallet, _payable = _accounts()
    fund_wallet(user, 5000, unit)
    result = runner.invoke(args=["jumpa-madu", "ledger-check"])
    assert result.exit_code == 0, result.output
    assert "Ledger OK" in result.output


def test_statement_shows_each_movement_with_the_balance_after_it(ctx):
    user, unit, wallet, _payable = _accounts()
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, unit.id)
    fund_wallet(user, 5000, unit)
    fund_wallet(user, 2500, unit)
    ledger.post(TxnKind.WITHDRAWAL_HOLD, "h", [(wallet, -3000), (hold, 3000)], description="Tarik")
    db.session.commit()
    lines, total = ledger.statement(wallet.id)
    assert total == 3
    assert [(line.amount, line.balance) for line in lines] == [
        (-3000, 4500),
        (2500, 7500),
        (5000, 5000),
    ]
    page2, _ = ledger.statement(wallet.id, page=2, per_page=2)
    assert [(line.amount, line.balance) for line in page2] == [(5000, 5000)]


def test_every_page_of_a_statement_agrees_with_a_running_sum(ctx):
    """Pages start from the cached balance minus the newer entries they skip: whatever the page
    size and depth, each balance must equal the running sum of the entries up to it."""
    user, unit, wallet, _payable = _accounts()
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, unit.id)
    amounts = []
    for i in range(11):
        credit = 1000 + 137 * i
        fund_wallet(user, credit, unit)
        amounts.append(credit)
        if i % 3 == 2:
            ledger.post(
                TxnKind.WITHDRAWAL_HOLD, f"h{i}", [(wallet, -900), (hold, 900)], description="Tarik"
            )
            amounts.append(-900)
    db.session.commit()
    running, expected = 0, []
    for amount in amounts:
        running += amount
        expected.append((amount, running))
    expected.reverse()  # newest first
    for per_page in (1, 2, 5, 14, 20):
        shown = []
        for page in range(1, len(amounts) // per_page + 3):
            lines, total = ledger.statement(wallet.id, page=page, per_page=per_page)
            assert total == len(amounts)
            shown += [(line.amount, line.balance) for line in lines]
        assert shown == expected, per_page
