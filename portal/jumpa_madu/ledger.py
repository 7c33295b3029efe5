"""The money of Jumpa Madu: an append-only, double-entry ledger in integer rupiah.

Accounts
    ``wallet``            one per resident: what the portal owes them and they may withdraw (>= 0)
    ``unit_payable``      one per unit: minus what the unit still owes residents for waste it bought
    ``withdrawal_hold``   one per unit: money set aside for withdrawals asked of that unit, not paid

Transactions (every one sums to zero; sign convention: + raises the account's balance)
    weighing credit      wallet +R, unit_payable -R            (R = resident's share of a weighing)
    withdrawal hold      wallet -A, withdrawal_hold +A         (when the resident asks)
    withdrawal released  withdrawal_hold -A, wallet +A         (rejected: the money comes back)
    withdrawal paid      withdrawal_hold -A, unit_payable +A   (the unit paid the resident)

Rows are never updated or deleted (an ORM guard, and database triggers); a mistake is corrected
with a reversing transaction. `LedgerAccount.balance` is a cache of the sum of the account's
entries, changed only by `post()` in the same transaction with an atomic ``balance = balance + x``
(never read-modify-write), and a wallet's row refuses to go below zero in the same statement:
two withdrawals racing for the last rupiah cannot both pass, on PostgreSQL (row lock, re-checked
after the other commits) or SQLite (one writer at a time). `check()` proves the cache right.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.accounts.models import User, enum_column
from portal.core.errors import DomainError
from portal.core.time import utcnow
from portal.extensions import db


class AccountKind(enum.StrEnum):
    WALLET = "wallet"
    UNIT_PAYABLE = "unit_payable"
    WITHDRAWAL_HOLD = "withdrawal_hold"


class TxnKind(enum.StrEnum):
    WEIGHING_CREDIT = "weighing_credit"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_RELEASED = "withdrawal_released"
    WITHDRAWAL_PAID = "withdrawal_paid"
    REVERSAL = "reversal"

    @property
    def label(self) -> str:
        return str(TXN_LABELS[self])


TXN_LABELS = {
    TxnKind.WEIGHING_CREDIT: _l("Waste sold"),
    TxnKind.WITHDRAWAL_HOLD: _l("Withdrawal requested"),
    TxnKind.WITHDRAWAL_RELEASED: _l("Withdrawal rejected, money returned"),
    TxnKind.WITHDRAWAL_PAID: _l("Withdrawal paid"),
    TxnKind.REVERSAL: _l("Correction"),
}


class LedgerAccount(db.Model):
    """A place money sits. `balance` caches the sum of its entries (see the module docstring)."""

    __tablename__ = "jm_ledger_accounts"
    __table_args__ = (
        CheckConstraint("kind <> 'wallet' OR balance >= 0", name="wallet_not_negative"),
        CheckConstraint(
            "(kind = 'wallet' AND user_id IS NOT NULL) "
            "OR (kind <> 'wallet' AND unit_id IS NOT NULL)",
            name="owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column(AccountKind, 20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("jm_units.id"))
    balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerTransaction(db.Model):
    """One movement of money, made of entries that sum to zero. Never changed after insert.

    `key` makes posting idempotent: the credit of weighing 12 is ``weighing:12:credit``, so a
    double submit or two officers at once cannot credit it twice (the second insert fails).
    """

    __tablename__ = "jm_ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[TxnKind] = mapped_column(enum_column(TxnKind, 24))
    description: Mapped[str] = mapped_column(String(200))
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("jm_pickups.id"), index=True)
    withdrawal_id: Mapped[int | None] = mapped_column(ForeignKey("jm_withdrawals.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("jm_ledger_transactions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(db.Model):
    """One side of a transaction: `amount` rupiah into (+) or out of (-) one account."""

    __tablename__ = "jm_ledger_entries"
    __table_args__ = (
        Index("ix_jm_ledger_entries_account", "account_id", "id"),
        CheckConstraint("amount <> 0", name="not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("jm_ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("jm_ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()


# --- append-only --------------------------------------------------------------------------------

APPEND_ONLY_TABLES = ("jm_ledger_transactions", "jm_ledger_entries")


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, LedgerTransaction | LedgerEntry) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise RuntimeError("the ledger is append-only: post a reversing transaction")


def _install_triggers(table: Any, connection: Any, **_kw: Any) -> None:
    """Database triggers, so not even raw SQL can rewrite money history.

    UPDATE is refused on both databases; DELETE on PostgreSQL only, because the SQLite test
    suite empties tables with DELETE between tests (PostgreSQL's TRUNCATE fires no row trigger).
    """
    for statement in trigger_ddl(connection.dialect.name, table.name):
        connection.execute(DDL(statement))


def trigger_ddl(dialect: str, table: str) -> list[str]:
    """The CREATE statements of the append-only triggers (shared with the migration)."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION jm_ledger_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'the ledger is append-only'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jm_ledger_append_only()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
        ]
    return []


for _table in (LedgerTransaction.__table__, LedgerEntry.__table__):
    event.listen(_table, "after_create", _install_triggers)


# --- accounts -----------------------------------------------------------------------------------


def wallet_key(user_id: int) -> str:
    return f"wallet:{user_id}"


def unit_key(kind: AccountKind, unit_id: int) -> str:
    return f"{kind.value}:{unit_id}"


def _get_or_create(key: str, **fields: Any) -> LedgerAccount:
    account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if account is not None:
        return account
    account = LedgerAccount(key=key, balance=0, **fields)
    try:
        with db.session.begin_nested():
            db.session.add(account)
    except IntegrityError:
        # Someone else created it a moment ago: use theirs.
        account = db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
        assert account is not None
    return account


def wallet_account(user: User) -> LedgerAccount:
    return _get_or_create(wallet_key(user.id), kind=AccountKind.WALLET, user_id=user.id)


def unit_account(kind: AccountKind, unit_id: int) -> LedgerAccount:
    return _get_or_create(unit_key(kind, unit_id), kind=kind, unit_id=unit_id)


def wallet_balance(user_id: int) -> int:
    """The available balance (cached; `check()` proves it equals the entries)."""
    value = db.session.scalar(
        select(LedgerAccount.balance).where(LedgerAccount.key == wallet_key(user_id))
    )
    return value or 0


def entries_balance(account_id: int) -> int:
    """The balance summed from the entries themselves, without the cache."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(value or 0)


# --- posting ------------------------------------------------------------------------------------


def post(
    kind: TxnKind,
    key: str,
    entries: Sequence[tuple[LedgerAccount, int]],
    *,
    description: str,
    actor: User | None = None,
    pickup_id: int | None = None,
    withdrawal_id: int | None = None,
    reverses_id: int | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction and move the cached balances with it.

    Refuses (DomainError) an unbalanced or empty transaction, a key already posted, and any move
    that would take a wallet below zero. The caller's action commits or rolls back all of it.
    """
    if len(entries) < 2 or sum(amount for _account, amount in entries) != 0:
        raise ValueError("a ledger transaction needs two or more entries summing to zero")
    if any(amount == 0 or not isinstance(amount, int) for _account, amount in entries):
        raise ValueError("ledger amounts are non-zero integer rupiah")
    # Balances first, in account-id order: the wallet's conditional update is the lock that
    # serialises concurrent withdrawals, and one fixed order keeps PostgreSQL free of deadlocks.
    for account, amount in sorted(entries, key=lambda e: e[0].id):
        result = db.session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account.id)
            .where(
                or_(
                    LedgerAccount.kind != AccountKind.WALLET,
                    LedgerAccount.balance + amount >= 0,
                )
            )
            .values(balance=LedgerAccount.balance + amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise DomainError("amount", _("The amount is more than the available balance."))
    txn = LedgerTransaction(
        key=key,
        kind=kind,
        description=description[:200],
        pickup_id=pickup_id,
        withdrawal_id=withdrawal_id,
        reverses_id=reverses_id,
        created_by_id=actor.id if actor is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(txn)
            db.session.flush()
    except IntegrityError as exc:
        raise DomainError(None, _("This has already been recorded.")) from exc
    for account, amount in entries:
        db.session.add(LedgerEntry(transaction_id=txn.id, account_id=account.id, amount=amount))
    db.session.flush()
    for account, _amount in entries:
        db.session.expire(account, ["balance"])
    return txn


def is_posted(key: str) -> bool:
    return (
        db.session.scalar(select(LedgerTransaction.id).where(LedgerTransaction.key == key))
        is not None
    )


def reverse(txn: LedgerTransaction, *, description: str, actor: User | None) -> LedgerTransaction:
    """Undo a transaction by posting its mirror image; both stay in the ledger."""
    return post(
        TxnKind.REVERSAL,
        f"reversal:{txn.id}",
        [(entry.account, -entry.amount) for entry in txn.entries],
        description=description,
        actor=actor,
        pickup_id=txn.pickup_id,
        withdrawal_id=txn.withdrawal_id,
        reverses_id=txn.id,
    )


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    id: int
    created_at: dt.datetime
    kind: TxnKind
    description: str
    amount: int
    balance: int
    pickup_id: int | None
    withdrawal_id: int | None


def statement(
    account_id: int, *, page: int = 1, per_page: int = 50
) -> tuple[list[StatementLine], int]:
    """Every movement of an account, newest first, each with the balance right after it.

    The balance after the newest entry is the account's cached balance; going back, each entry's
    is the one after it minus its amount. So a page needs its own rows and the sum of the newer
    entries it skips: the cost follows the page's depth, not the account's history (a window
    sum over every entry made the wallet slower with each year of pickups). One statement reads
    the rows, the balance and that sum together, so a posting committed meanwhile cannot make
    them disagree.
    """
    skip = (max(page, 1) - 1) * per_page
    balance = (
        select(LedgerAccount.balance).where(LedgerAccount.id == account_id).scalar_subquery()
    )
    newest = (
        select(LedgerEntry.amount)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.id.desc())
        .limit(skip)
        .subquery()
    )
    skipped = select(func.coalesce(func.sum(newest.c.amount), 0)).scalar_subquery()
    total = db.session.scalar(
        select(func.count(LedgerEntry.id)).where(LedgerEntry.account_id == account_id)
    )
    rows = db.session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.created_at,
            LedgerEntry.amount,
            LedgerTransaction,
            balance.label("balance"),
            skipped.label("skipped"),
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.id.desc())
        .limit(per_page)
        .offset(skip)
    ).all()
    lines = []
    after = int(rows[0].balance) - int(rows[0].skipped) if rows else 0
    for row in rows:
        lines.append(
            StatementLine(
                id=row.id,
                created_at=row.created_at,
                kind=row.LedgerTransaction.kind,
                description=row.LedgerTransaction.description,
                amount=row.amount,
                balance=after,
                pickup_id=row.LedgerTransaction.pickup_id,
                withdrawal_id=row.LedgerTransaction.withdrawal_id,
            )
        )
        after -= row.amount
    return lines, total or 0


# --- checking -----------------------------------------------------------------------------------


def check() -> list[str]:
    """Every discrepancy in the ledger, in words; an empty list means the books balance.

    Checks that each transaction has two or more entries summing to zero, that each account's
    cached balance equals the sum of its entries, and that no wallet is below zero.
    """
    problems: list[str] = []
    unbalanced = db.session.execute(
        select(
            LedgerTransaction.id,
            func.coalesce(func.sum(LedgerEntry.amount), 0),
            func.count(LedgerEntry.id),
        )
        .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id)
        .having(
            or_(func.coalesce(func.sum(LedgerEntry.amount), 0) != 0, func.count(LedgerEntry.id) < 2)
        )
    ).all()
    for txn_id, total, count in unbalanced:
        problems.append(f"transaction {txn_id}: {count} entries summing to {total}, not 0")
    sums = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    mismatched = db.session.execute(
        select(LedgerAccount.key, LedgerAccount.balance, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != func.coalesce(sums.c.total, 0))
    ).all()
    for key, cached, summed in mismatched:
        problems.append(f"account {key}: cached balance {cached} but entries sum to {summed}")
    negative = db.session.execute(
        select(LedgerAccount.key, LedgerAccount.balance).where(
            LedgerAccount.kind == AccountKind.WALLET, LedgerAccount.balance < 0
        )
    ).all()
    for key, balance in negative:
        problems.append(f"account {key}: wallet below zero ({balance})")
    return problems
