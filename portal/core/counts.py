"""Counts that stay cheap as history grows: exact up to a cap, "more than" above it.

Officer queues show how many items each tab holds. Finished work only grows (a regency files
hundreds of thousands of requests over the years), and counting all of it on every queue view
made the page slower with each year of history. The SADOKU queue caps every tab (its open
statuses follow a regency-wide workload); Jumpa Madu caps a unit's closed tab and counts its
open ones, one unit's workload, exactly. Above the cap the page says "1.000+".
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal.extensions import db

COUNT_CAP = 1000


def capped_count(stmt: Select[Any], cap: int = COUNT_CAP) -> int:
    """Rows of `stmt`, counted no further than cap + 1: a result above `cap` means "more than"."""
    limited = stmt.order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited)) or 0


def list_cap(page: int, per_page: int, cap: int = COUNT_CAP) -> int:
    """How far a paged list's total is counted: the cap, or further when the page asked for is
    deeper, so that the pages up to it always know whether there is a next one."""
    return max(cap, page * per_page)


def count_label(n: int, cap: int | None) -> str:
    """A count as a tab shows it: "1.000+" when it was capped and reached the cap."""
    if cap is not None and n > cap:
        return _("%(num)s+", num=format_number(cap))
    return format_number(n)
