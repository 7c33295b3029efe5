"""Whose Jumpa Madu records a user may open. Anything else is a 404, so its existence stays hidden.

Residents' getters come first; the unit officers' getters follow (appended by their views).
"""

from __future__ import annotations

from flask import abort

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.jumpa_madu.models import Pickup, WasteUnit, Withdrawal


def get_pickup_or_404(pickup_id: int, user: User) -> Pickup:
    """A pickup as its resident sees it: their own, never anyone else's."""
    pickup = db.session.get(Pickup, pickup_id)
    if pickup is None or pickup.user_id != user.id:
        abort(404)
    return pickup


def get_withdrawal_or_404(withdrawal_id: int, user: User) -> Withdrawal:
    """A withdrawal as its resident sees it: their own, never anyone else's."""
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.user_id != user.id:
        abort(404)
    return withdrawal


# --- unit officers ----------------------------------------------------------------------------


def _works_for(user: User, unit: WasteUnit) -> bool:
    """Admins act for any unit; a waste officer only for the unit their grant is scoped to."""
    return user.has_role(Role.ADMIN) or user.has_role(Role.WASTE_OFFICER, scope=unit.scope)


def get_unit_pickup_or_404(pickup_id: int, user: User) -> Pickup:
    """A pickup as its unit's officers see it (full address and phone); another unit's is a 404."""
    pickup = db.session.get(Pickup, pickup_id)
    if pickup is None or not _works_for(user, pickup.unit):
        abort(404)
    return pickup


def get_unit_withdrawal_or_404(withdrawal_id: int, user: User) -> Withdrawal:
    """A withdrawal as the paying unit's officers see it; another unit's is a 404."""
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    if withdrawal is None or not _works_for(user, withdrawal.unit):
        abort(404)
    return withdrawal
